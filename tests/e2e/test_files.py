"""Identity proofs and disclosed documents (issue 9, Art. 29, 36, 40), through real NATS (the
object store) and PostgreSQL."""

from __future__ import annotations

import hashlib
import json

import pytest

from gongkai_shared.files import BUCKET, OBJECT_STREAM, FileRef, FileStore
from gongkai_shared.staff import reads_aggregate
from tests.flow import DISCLOSE, application, command, events_named
from tests.harness import HANDLERS_DEPARTMENT, System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.7\n" + "居民身份证 张三 110101199001011234\n".encode() * 200 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):  # noqa: ANN201
    s = await System(nats_server, database_url, intake={"upload_max_bytes": 64 * 1024}).start(
        "intake", "review"
    )
    yield s
    await s.stop()


async def stored_messages(nats: NatsServer) -> int:
    admin = await nats.admin()
    try:
        return (await admin.js.stream_info(OBJECT_STREAM)).state.messages
    finally:
        await admin.nc.close()


async def reads(system: System, case_id: str) -> list:
    """The recorded reads of the case's personal data (its own aggregate; none: [])."""
    return await system.runtime("review").store.history(reads_aggregate(case_id))


async def upload_identity(system: System, data: bytes = PDF, media_type: str = "application/pdf"):  # noqa: ANN201
    return await system.clients["intake"].post(
        "/api/v1/identity-proofs", files={"file": ("id.pdf", data, media_type)}
    )


async def test_an_identity_proof_is_stored_encrypted_read_by_a_registrar_and_the_read_recorded(
    system: System, nats_server: NatsServer
) -> None:
    """Art. 29: the application carries the proof of identity; personal files are encrypted in the
    object store, staff who check identity read it, and each read is in the log."""
    r = await upload_identity(system)
    assert r.status_code == 201, r.text
    ref = r.json()
    assert ref["encrypted"] is True and ref["size"] == len(PDF) and ref["media_type"] == "application/pdf"
    r = await system.clients["intake"].post("/api/v1/applications", json=application(identity_proof=ref))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]

    received = (await events_named(system, "request-received"))[0]
    assert received.envelope.data["identity_proof"] == ref  # the reference, never the file

    admin = await nats_server.admin()
    try:
        raw = (await (await admin.js.object_store(BUCKET)).get(ref["sha256"])).data
    finally:
        await admin.nc.close()
    assert raw is not None and PDF not in raw and b"%PDF" not in raw  # ciphertext only
    assert hashlib.sha256(raw).hexdigest() == ref["sha256"]

    reads_before = len(await reads(system, case_id))
    r = await system.clients["review"].get(
        f"/api/v1/cases/{case_id}/identity-proof", headers=System.token("registrar", "登记员甲")
    )
    assert r.status_code == 200, r.text
    assert r.content == PDF and r.headers["content-type"] == "application/pdf"
    after = await reads(system, case_id)
    assert len(after) == reads_before + 1
    assert (
        after[-1].envelope.data["item"] == "identity-proof" and after[-1].envelope.data["role"] == "registrar"
    )


async def test_the_identity_proof_is_refused_to_the_public_and_to_handlers(system: System) -> None:
    """Art. 29 with scope.py: a handler sees the applicant's identity masked; another
    department's handler and an anonymous caller get nothing (and nothing is recorded)."""
    ref = (await upload_identity(system, PNG, "image/png")).json()
    case_id = (
        await system.clients["intake"].post("/api/v1/applications", json=application(identity_proof=ref))
    ).json()["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    await command(system, case_id, "assign", {"departments": ["基础教育科"]}, "registrar")
    path = f"/api/v1/cases/{case_id}/identity-proof"
    assert (await system.clients["review"].get(path)).status_code == 401
    other = await system.clients["review"].get(path, headers=System.token("handler", "他部门经办人"))
    assert other.status_code == 403
    assert HANDLERS_DEPARTMENT != "基础教育科"
    assert await reads(system, case_id) == []
    # intake serves no file at all: the proof is reachable only through review
    assert (await system.clients["intake"].get(path)).status_code == 404


@pytest.mark.parametrize(
    ("data", "media_type", "why"),
    [
        (b"%PDF-1.4\n" + b"x" * (64 * 1024), "application/pdf", "KiB"),  # one over the limit
        (b"MZ\x90\x00 an executable", "application/pdf", "PDF、JPEG、PNG"),  # not what it says
        (b"GIF89a....", "image/gif", "PDF、JPEG、PNG"),
        (PNG, "application/pdf", "PDF、JPEG、PNG"),  # a PNG declared as a PDF
    ],
)
async def test_a_bad_upload_is_422_naming_the_field_and_stores_nothing(
    system: System, nats_server: NatsServer, data: bytes, media_type: str, why: str
) -> None:
    """Art. 29 uploads: PDF, JPEG or PNG only, at most the configured size; refused before
    anything reaches the object store."""
    before = await stored_messages(nats_server)
    r = await upload_identity(system, data, media_type)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "file" and why in r.json()["errors"][0]["message"]
    assert await stored_messages(nats_server) == before


async def test_an_application_naming_a_file_never_uploaded_is_422(system: System) -> None:
    """Art. 29: the reference must be an identity proof that was uploaded (and encrypted)."""
    forged = {"sha256": "ab" * 32, "size": 10, "media_type": "application/pdf", "encrypted": True,
              "key_id": "cd" * 16}  # fmt: skip
    r = await system.clients["intake"].post("/api/v1/applications", json=application(identity_proof=forged))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "identity_proof", r.text
    assert await events_named(system, "request-received") == []


async def test_a_registrar_records_an_identity_seen_in_person_only_for_an_in_person_application(
    system: System,
) -> None:
    """Art. 29: in person, the registrar notes that the proof was seen (received 2026-03-02)."""
    system.clock  # noqa: B018
    token = System.token("registrar", "登记员甲")
    body = application(channel="in_person", received_on=system.clock.today().isoformat(),
                       identity_seen="已当面查验居民身份证原件（登记员甲）")  # fmt: skip
    r = await system.clients["intake"].post("/api/v1/applications/registered", json=body, headers=token)
    assert r.status_code == 201, r.text
    received = (await events_named(system, "request-received"))[0]
    assert received.envelope.data["identity_seen"].startswith("已当面查验")
    r = await system.clients["intake"].post(
        "/api/v1/applications/registered", json={**body, "channel": "letter"}, headers=token
    )
    assert r.status_code == 422 and "identity_seen" in r.text


async def test_a_disclosed_document_travels_with_the_answer_by_its_hash(system: System) -> None:
    """Art. 36, 40: the answer carries the disclosed documents, stored unencrypted and referenced
    by hash; the hash in the event is the hash of what the store gives back."""
    case_id = (await system.clients["intake"].post("/api/v1/applications", json=application())).json()[
        "case_id"
    ]
    review = system.clients["review"]
    doc = b"%PDF-1.7\n2025\xe5\xb9\xb4\xe5\x88\x92\xe7\x89\x87\xe6\x96\xb9\xe6\xa1\x88\n%%EOF\n"
    up = await review.post(
        "/api/v1/documents", files={"file": ("plan.pdf", doc, "application/pdf")},
        headers=System.token("reviewer", "甲"),
    )  # fmt: skip
    assert up.status_code == 201, up.text
    ref = up.json()
    assert ref["encrypted"] is False and ref["sha256"] == hashlib.sha256(doc).hexdigest()
    public = await review.post("/api/v1/documents", files={"file": ("plan.pdf", doc, "application/pdf")})
    assert public.status_code == 401

    await command(system, case_id, "register", {}, "registrar")
    await command(
        system, case_id, "documents", {"document": ref, "title": "2025年划片方案"}, "reviewer", "甲"
    )
    missing = {**ref, "sha256": "00" * 32}
    r = await review.post(
        f"/api/v1/cases/{case_id}/documents", json={"document": missing, "title": "不存在"},
        headers=System.token("reviewer", "甲"),
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document", r.text
    await command(
        system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密内容"}, "reviewer"
    )
    await command(system, case_id, "draft", DISCLOSE, "reviewer", "甲")
    await command(system, case_id, "sign-off", {}, "approver", "乙")
    await command(system, case_id, "answer", {}, "registrar")
    sent = (await events_named(system, "answer-sent"))[0].envelope.data
    assert [d["sha256"] for d in sent["documents"]] == [hashlib.sha256(doc).hexdigest()]

    r = await review.get(
        f"/api/v1/cases/{case_id}/documents/{ref['sha256']}", headers=System.token("registrar")
    )
    assert r.status_code == 200 and r.content == doc
    assert hashlib.sha256(r.content).hexdigest() == sent["documents"][0]["sha256"]
    store = FileStore(system.runtime("review").store.js)
    assert await store.read(FileRef.model_validate(sent["documents"][0])) == doc
    json.dumps(sent)  # the event holds the reference only
