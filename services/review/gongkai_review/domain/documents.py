"""Documents disclosed with the answer (公开的政府信息, Art. 36(1)-(2), 40).

A document is uploaded by staff (``POST /api/v1/documents``: stored, not encrypted, in the object
store, named by its SHA-256) and attached to the case by its reference; the answer sent later
carries every attached document (``answer-sent.documents``). Documents are attached before the
draft is signed: what the approver signs is what goes out (a draft sent back lets more be
attached).
"""

from __future__ import annotations

from gongkai_shared.events import DocumentAttached, Title
from gongkai_shared.filerefs import FileRef

from ..case import CaseState
from .common import Context, Input, reject

MAX_DOCUMENTS = 50


class AttachDocument(Input):
    document: FileRef
    title: Title


def attach_document(s: CaseState, c: AttachDocument, ctx: Context) -> DocumentAttached:
    """Attach a disclosed document (a public file: never encrypted), once per file."""
    if c.document.encrypted:
        raise reject("公开文件不得加密 (a disclosed document is public: not an encrypted file)")
    if any(d["sha256"] == c.document.sha256 for d in s.documents):
        raise reject("该文件已附送 (this document is already attached)")
    if len(s.documents) >= MAX_DOCUMENTS:
        raise reject(f"附送文件不得超过 {MAX_DOCUMENTS} 个 (at most {MAX_DOCUMENTS} documents)")
    return DocumentAttached(case_id=s.case_id, document=c.document, title=c.title)
