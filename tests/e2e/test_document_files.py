"""A document's files (issue 10, DOMAIN §1: "its files (in the object store)") on real NATS (the
object store) and PostgreSQL: a department uploads them, a document names them, and the public
downloads the files of published items only, by the item's 索引号."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import pytest

from gongkai_shared.clock import FakeClock
from gongkai_shared.files import FileStore, parse_master_key
from tests.e2e.test_documents import item, metadata, post, register, review_and_sign
from tests.flow import wait_for_count
from tests.harness import FILES_KEY, System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.7\n" + "关于义务教育招生的实施意见 正文\n".encode() * 300 + b"%%EOF\n"
PDF_2 = b"%PDF-1.7\n" + "实施意见（修订）正文\n".encode() * 300 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):  # noqa: ANN201
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday, 10:00 in Beijing
    s = await System(
        nats_server, database_url, clock=clock, publishing={"upload_max_bytes": 64 * 1024}
    ).start("publishing")
    yield s
    await s.stop()


async def upload(
    system: System, data: bytes, media_type: str, role: str = "handler", expect: int = 201
) -> dict:
    r = await system.clients["publishing"].post(
        "/api/v1/information/files",
        files={"file": ("f", data, media_type)},
        headers=System.token(role, "丙" if role == "handler" else role),
    )
    assert r.status_code == expect, r.text
    return r.json()


async def publish(system: System, m: dict, published: int) -> str:
    """Register (by 丙), review and sign (by 乙) a proactive document; its index number."""
    doc = await register(system, m)
    await review_and_sign(system, doc)
    events = await wait_for_count(system, "published", published)
    return next(e.envelope.data["index_number"] for e in events if e.envelope.data["document_id"] == doc)


async def get(system: System, path: str) -> tuple[int, bytes, dict]:
    r = await system.clients["publishing"].get(path)
    return r.status_code, r.content, dict(r.headers)


def url(number: str, ref: dict, ext: str = "pdf") -> str:
    return f"/api/v1/catalog/{quote(number, safe='/')}/files/{ref['sha256']}.{ext}"


async def test_the_public_downloads_the_exact_bytes_of_a_published_documents_file(system: System) -> None:
    """DOMAIN §1, 条例 Art. 19-20: a department uploads a PDF, registers a proactive document naming
    it; after 保密审查 and 签发 it is published, and anyone downloads the same bytes by the item's
    索引号, named after the document's title; the item (API and page) links to it."""
    ref = await upload(system, PDF, "application/pdf")
    assert ref == {"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF),
                   "media_type": "application/pdf", "encrypted": False, "key_id": None}  # fmt: skip
    title = "关于义务教育招生的实施意见"
    number = await publish(system, metadata(title, files=[ref]), 1)

    shown = await item(system, number)
    assert shown["files"] == [{"sha256": ref["sha256"], "size": len(PDF), "media_type": "application/pdf",
                               "url": url(number, ref)}]  # fmt: skip
    status, body, headers = await get(system, shown["files"][0]["url"])
    assert status == 200 and body == PDF
    assert headers["content-type"] == "application/pdf" and headers["x-content-sha256"] == ref["sha256"]
    name = re.search(r"filename\*=UTF-8''(\S+)", headers["content-disposition"])
    assert name is not None and unquote(name.group(1)) == f"{title}.pdf"
    assert headers["content-disposition"].startswith("attachment;")

    page = (await system.clients["publishing"].get(f"/gongkai/item/{number}")).text
    assert f'href="{url(number, ref)}"' in page and "附件" in page

    # an unknown hash, and the right hash with another type's extension: 404
    assert (await get(system, url(number, {"sha256": "0" * 64})))[0] == 404
    assert (await get(system, url(number, ref, "png")))[0] == 404
    assert (await get(system, f"/api/v1/catalog/{number}/files/not-a-hash.pdf"))[0] == 422


async def test_only_files_of_versions_published_under_that_number_are_served(system: System) -> None:
    """DOMAIN §7: the catalogue releases what was published, nothing more: a file of a document
    not published (registered, not signed), another item's file under this number, or the file
    of an amendment not yet signed is 404; once the amendment is published its file is served and
    the first version's file still is (history kept)."""
    first, other = await upload(system, PDF, "application/pdf"), await upload(system, PNG, "image/png")
    unpublished = await upload(system, PDF_2, "application/pdf")
    a = await publish(system, metadata("甲文件", files=[first]), 1)
    b = await publish(system, metadata("乙文件", files=[other]), 2)
    draft = await register(system, metadata("丙文件（未签发）", files=[unpublished]))
    await item(system, b)  # the catalogue has caught up with the log

    assert (await get(system, url(b, other, "png")))[:2] == (200, PNG)
    assert (await get(system, url(a, other, "png")))[0] == 404  # another item's file
    assert (await get(system, url(a, unpublished)))[0] == 404  # a file of an unpublished document
    assert (await get(system, url(b, first)))[0] == 404

    # an amendment of 甲 naming the third file: not served until that version is published
    [doc_a] = [e.envelope.data["document_id"] for e in await wait_for_count(system, "published", 2)
               if e.envelope.data["index_number"] == a]  # fmt: skip
    change = {"metadata": metadata("甲文件（修订）", files=[unpublished]), "reason": "更正附件",
              "changed_on": "2026-03-01"}  # fmt: skip
    await post(system, f"/api/v1/information/documents/{doc_a}/amendment", change, "handler", "丁")
    await item(system, a)
    assert (await get(system, url(a, unpublished)))[0] == 404
    await review_and_sign(system, doc_a, version=2)
    await wait_for_count(system, "amended", 1)
    shown = await item(system, a)
    assert [f["sha256"] for f in shown["files"]] == [unpublished["sha256"]]
    assert [[f["sha256"] for f in v["files"]] for v in shown["versions"]] == [
        [unpublished["sha256"]], [first["sha256"]]
    ]  # fmt: skip
    status, body, headers = await get(system, url(a, unpublished))
    assert (status, body) == (200, PDF_2) and "%E4%BF%AE%E8%AE%A2" in headers["content-disposition"]  # 修订
    assert (await get(system, url(a, first)))[:2] == (200, PDF)  # the first version's file, still
    assert draft  # never published: nothing of it is in the catalogue
    assert (await get(system, url(a, unpublished).replace(a, "000000000/2026-99999")))[0] == 404


async def test_a_documents_files_are_uploaded_first_and_never_an_encrypted_file(
    system: System, nats_server: NatsServer
) -> None:
    """DOMAIN §1 (its files are in the object store), 条例 Art. 15 and Art. 29 (personal data is
    not published): a hash not stored, or stored with another size, is a 422 naming
    ``metadata.files``; an encrypted reference (an applicant's identity proof) is refused even
    when it is stored; only a department uploads, and only a PDF, JPEG or PNG."""
    stored = await upload(system, PDF, "application/pdf")
    absent = {**stored, "sha256": hashlib.sha256(b"never uploaded").hexdigest()}
    admin = await nats_server.admin()
    try:
        proof = await FileStore(admin.js, parse_master_key(FILES_KEY)).put_personal(PDF, "application/pdf")
    finally:
        await admin.nc.close()
    sealed = proof.model_dump()
    for files, message in [
        ([absent], "未上传"),
        ([stored, {**stored, "size": stored["size"] + 1}], "未上传"),
        ([sealed], "加密"),
        ([{**sealed, "size": sealed["size"] + 28}], "加密"),  # its ciphertext's size: still refused
        ([{**sealed, "encrypted": False, "key_id": None}], "未上传"),  # the ciphertext called public
    ]:
        body = {"department": "教育局", "metadata": metadata("附件有误", files=files)}
        r = await post(system, "/api/v1/information/documents", body, "handler", expect=422)
        fields = [e["field"] for e in r["errors"]]
        assert any(f.startswith("metadata.files") for f in fields) and message in r["errors"][0]["message"], r

    doc = await register(system, metadata("附件正确", files=[stored]))
    change = {
        "metadata": metadata("附件正确（修订）", files=[absent]),
        "reason": "换附件",
        "changed_on": "2026-03-01",
    }
    r = await post(system, f"/api/v1/information/documents/{doc}/amendment", change, "handler", expect=422)
    assert r["errors"][0]["field"] == "metadata.files.0"

    assert (await upload(system, b"GIF89a not accepted", "image/gif", expect=422))["errors"][0][
        "field"
    ] == "file"
    await upload(system, PDF, "application/pdf", role="reviewer", expect=403)
    r = await system.clients["publishing"].post("/api/v1/information/files", files={"file": ("f", PDF)})
    assert r.status_code == 401
    await upload(system, b"%PDF-1.7\n" + b"x" * (64 * 1024), "application/pdf", expect=422)  # too large
