"""The applicant downloads their letters and the answer's disclosed documents with the tracking
code alone (issue 9), through real NATS (the log and the object store) and PostgreSQL: the answer
as a PDF in the GB/T 9704 layout, a disclosed document byte for byte; another case's code, an
unknown code, an identity proof or another case's document are 404 with no hint."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from tests.flow import DISCLOSE, application, command
from tests.harness import System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
DOC = "%PDF-1.7\n2025年小学招生划片方案\n%%EOF\n".encode()
PROOF = b"%PDF-1.7\n" + "居民身份证 张三\n".encode() * 50 + b"%%EOF\n"


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):  # noqa: ANN201
    s = await System(nats_server, database_url).start("intake", "review")
    yield s
    await s.stop()


async def answered_with_a_document(system: System) -> tuple[dict, dict]:
    """An application with an identity proof, answered with one disclosed document."""
    intake, review = system.clients["intake"], system.clients["review"]
    proof = await intake.post("/api/v1/identity-proofs", files={"file": ("id.pdf", PROOF, "application/pdf")})
    assert proof.status_code == 201, proof.text
    r = await intake.post("/api/v1/applications", json=application(identity_proof=proof.json()))
    assert r.status_code == 201, r.text
    applied = {**r.json(), "proof": proof.json()}
    case_id = applied["case_id"]
    up = await review.post(
        "/api/v1/documents", files={"file": ("plan.pdf", DOC, "application/pdf")},
        headers=System.token("reviewer", "甲"),
    )  # fmt: skip
    assert up.status_code == 201, up.text
    await command(system, case_id, "register", {}, "registrar")
    await command(
        system, case_id, "documents", {"document": up.json(), "title": "划片方案"}, "reviewer", "甲"
    )
    await command(
        system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密内容"}, "reviewer"
    )
    await command(system, case_id, "draft", DISCLOSE, "reviewer", "甲")
    await command(system, case_id, "sign-off", {}, "approver", "乙")
    await command(system, case_id, "answer", {}, "registrar")
    await system.settle()
    return applied, up.json()


async def test_the_applicant_downloads_the_answer_pdf_and_the_disclosed_document_with_the_code(
    system: System,
) -> None:
    intake = system.clients["intake"]
    applied, document = await answered_with_a_document(system)
    code = applied["tracking_code"]
    listed = await intake.get(f"/api/v1/applications/{code}/letters")
    assert listed.status_code == 200, listed.text
    [answer] = [x for x in listed.json()["letters"] if x["event"] == "answer-sent"]
    assert answer["title"] == "政府信息公开申请答复告知书" and answer["number"]

    pdf = await intake.get(answer["pdf"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert answer["number"] in text and "答复告知书" in text and "本机关予以公开" in text
    txt = await intake.get(answer["txt"])
    assert txt.status_code == 200 and answer["number"] in txt.text

    [doc] = listed.json()["documents"]
    assert doc["sha256"] == document["sha256"]
    got = await intake.get(doc["href"])
    assert got.status_code == 200 and got.content == DOC
    assert got.headers["content-type"] == "application/pdf"

    page = await intake.get(f"/track/{code}")
    assert page.status_code == 200 and "文书与文件下载" in page.text
    assert answer["pdf"] in page.text and doc["href"] in page.text

    # never the identity proof, even with the right code
    proof = f"/api/v1/applications/{code}/documents/{applied['proof']['sha256']}.pdf"
    assert (await intake.get(proof)).status_code == 404


async def test_another_cases_code_or_an_unknown_code_gets_404_without_a_hint(system: System) -> None:
    intake = system.clients["intake"]
    applied, document = await answered_with_a_document(system)
    other = (await intake.post("/api/v1/applications", json=application(description="另一件申请"))).json()
    await system.settle()
    mine = (await intake.get(f"/api/v1/applications/{applied['tracking_code']}/letters")).json()
    answer_seq = next(x["sequence"] for x in mine["letters"] if x["event"] == "answer-sent")

    other_code = other["tracking_code"]
    listed = await intake.get(f"/api/v1/applications/{other_code}/letters")
    assert listed.status_code == 200 and listed.json() == {"letters": [], "documents": []}
    for path in (f"documents/{document['sha256']}.pdf", f"letters/{answer_seq}.pdf"):
        r = await intake.get(f"/api/v1/applications/{other_code}/{path}")
        assert r.status_code == 404, path

    unknown = "A" * 24
    for path in ("letters", f"letters/{answer_seq}.pdf", f"documents/{document['sha256']}.pdf"):
        r = await intake.get(f"/api/v1/applications/{unknown}/{path}")
        assert r.status_code == 404 and "查询码" in r.text and document["sha256"] not in r.text
