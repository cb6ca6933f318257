"""Reads over the public catalogue (公开目录): lists with filters, search and a cursor; one item
with its links and version history; the sections' counts; the newest items for the feed.

Only catalogue metadata leaves here (DOMAIN §7): never the case an item came from, event ids or
file keys. An item's files are listed with their download address (``file_url``); an encrypted
reference (refused at registration, domain.check_metadata) is never listed nor served.
Search is migration 0006's ``search_query`` over the GENERATED ``search`` column.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import asyncpg

from gongkai_shared.information import ATTRIBUTE_LABELS, CATEGORIES, Attribute, DocumentKind

KIND_LABELS: dict[str, str] = {
    DocumentKind.document: "文件",
    DocumentKind.policy: "政策文件",
    DocumentKind.interpretation: "政策解读",
    DocumentKind.disclosure_system: "政府信息公开制度",
    DocumentKind.annual_report: "政府信息公开年报",
}
# the section 法定主动公开内容 (by category) holds everything but the two other sections' kinds
SECTION_KINDS = ("document", "policy", "interpretation")

_COLUMNS = (
    "index_number, document_id, document_version, title, summary, issuing_body, formed_on,"
    " published_on, doc_number, category, kind, keywords, attribute, valid, repealed_on,"
    " updated_on, files"
)


# a file's extension in its download address, by its media type (filerefs.MediaType)
FILE_EXTENSIONS: dict[str, str] = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def file_url(index_number: str, ref: dict[str, Any]) -> str:
    """Where the public downloads a file of an item: ``/api/v1/catalog/<索引号>/files/<sha256>.<ext>``."""
    ext = FILE_EXTENSIONS[ref["media_type"]]
    return f"/api/v1/catalog/{quote(index_number, safe='/')}/files/{ref['sha256']}.{ext}"


def public_files(index_number: str, files: Any) -> list[dict[str, Any]]:
    """An item's (or a version's) files as the public sees them: each with its download address;
    an encrypted reference is left out (never public)."""
    refs = json.loads(files) if isinstance(files, str) else list(files or [])
    return [
        {"sha256": f["sha256"], "size": f["size"], "media_type": f["media_type"],
         "url": file_url(index_number, f)}
        for f in refs
        if not f.get("encrypted") and f.get("media_type") in FILE_EXTENSIONS
    ]  # fmt: skip


# a search with at most this many matches sorts them instead of walking the date index
FEW_MATCHES = 10_000


class BadCursor(ValueError):
    """A ``cursor`` this service did not hand out (a 422 naming the field)."""


def encode_cursor(published_on: date, index_number: str) -> str:
    raw = json.dumps([published_on.isoformat(), index_number], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[date, str]:
    """The position after which the next page starts: (发布日期, 索引号) of the last item shown."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        day, number = json.loads(raw)
        if not isinstance(number, str) or not number:
            raise ValueError(number)
        return date.fromisoformat(day), number
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as e:
        raise BadCursor("翻页标记无效 (not a cursor of this catalogue)") from e


@dataclass(frozen=True)
class Filters:
    q: str | None = None  # words, each found in the title, summary, keywords, 文号 or text
    category: str | None = None  # information.CATEGORIES
    year: int | None = None  # the year of 发布日期
    issuing_body: str | None = None  # 发布机构, exactly
    valid: bool | None = None  # 有效 (True) / 废止 (False)
    kind: str | None = None  # information.DocumentKind (the platform's sections)
    section: bool = False  # only the kinds of 法定主动公开内容

    def where(self, args: list[Any]) -> list[str]:
        """SQL conditions, appending their values to ``args`` ($1, $2 … in order)."""
        out: list[str] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if self.q is not None:
            out.append(f"search @@ search_query({arg(self.q)})")
        if self.category is not None:
            out.append(f"category = {arg(self.category)}")
        if self.year is not None:
            start, end = arg(date(self.year, 1, 1)), arg(date(self.year + 1, 1, 1))
            out.append(f"published_on >= {start} AND published_on < {end}")
        if self.issuing_body is not None:
            out.append(f"issuing_body = {arg(self.issuing_body)}")
        if self.valid is not None:
            out.append(f"valid = {arg(self.valid)}")
        if self.kind is not None:
            out.append(f"kind = {arg(self.kind)}")
        if self.section:
            out.append(f"kind = ANY({arg(list(SECTION_KINDS))}::text[])")
        return out


def _ref(r: asyncpg.Record) -> dict[str, Any]:
    return {"index_number": r["index_number"], "title": r["title"]}


async def _links(conn: asyncpg.Pool | asyncpg.Connection, documents: list[str]) -> dict[str, dict[str, Any]]:
    """Each document's links, both ways, to items in the catalogue (by 索引号; a link to a
    document not published yet is not shown)."""
    rows = await conn.fetch(
        "SELECT l.from_document, l.to_document, l.kind, f.index_number AS f_number, f.title AS f_title,"
        " t.index_number AS t_number, t.title AS t_title"
        " FROM catalog_links l"
        " LEFT JOIN catalog_items f ON f.document_id = l.from_document"
        " LEFT JOIN catalog_items t ON t.document_id = l.to_document"
        " WHERE l.from_document = ANY($1::text[]) OR l.to_document = ANY($1::text[])"
        " ORDER BY l.seq",
        documents,
    )
    out: dict[str, dict[str, Any]] = {
        d: {"interprets": None, "interpretations": [], "replaces": [], "replaced_by": []} for d in documents
    }
    for r in rows:
        to = {"index_number": r["t_number"], "title": r["t_title"]}
        frm = {"index_number": r["f_number"], "title": r["f_title"]}
        if r["from_document"] in out and to["index_number"]:
            if r["kind"] == "interprets":
                out[r["from_document"]]["interprets"] = to
            else:
                out[r["from_document"]]["replaces"].append(to)
        if r["to_document"] in out and frm["index_number"]:
            key = "interpretations" if r["kind"] == "interprets" else "replaced_by"
            out[r["to_document"]][key].append(frm)
    return out


def _public(r: asyncpg.Record, links: dict[str, Any] | None) -> dict[str, Any]:
    """An item as the public sees it (DOMAIN §7), labels in Chinese beside the codes."""
    d = dict(r)
    d.pop("document_id")
    for day in ("formed_on", "published_on", "repealed_on", "updated_on"):
        d[day] = d[day].isoformat() if d[day] else None
    d["category_label"] = CATEGORIES.get(d["category"] or "", None)
    d["kind_label"] = KIND_LABELS.get(d["kind"], d["kind"])
    d["attribute_label"] = ATTRIBUTE_LABELS.get(Attribute(d["attribute"]), d["attribute"])
    d["validity"] = "有效" if d["valid"] else "废止"
    d["keywords"] = list(d["keywords"])
    d["files"] = public_files(d["index_number"], d["files"])
    d["links"] = links or {"interprets": None, "interpretations": [], "replaces": [], "replaced_by": []}
    return d


async def list_items(
    pool: asyncpg.Pool, f: Filters, limit: int, after: tuple[date, str] | None
) -> dict[str, Any]:
    """One page, newest first (发布日期, then 索引号), after the cursor's item; ``next_cursor``
    is None on the last page. ``total`` counts every match."""
    args: list[Any] = []
    where = f.where(args)
    count_sql = "SELECT count(*) FROM catalog_items" + (" WHERE " + " AND ".join(where) if where else "")
    total = await pool.fetchval(count_sql, *args)
    if after is not None:
        args += list(after)
        where.append(f"(published_on, index_number) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    matching = f"SELECT {_COLUMNS} FROM catalog_items" + (" WHERE " + " AND ".join(where) if where else "")
    if f.q is not None and total <= FEW_MATCHES:
        # few matches: collect them from the search index, then sort. Walking the date index
        # and testing each item (the plan for many matches) read the whole table for a rare
        # word (0.9 s at 100k items; tests/bench/catalogue.py)
        matching = f"WITH m AS MATERIALIZED ({matching}) SELECT * FROM m"
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM ({matching}) AS found"
        f" ORDER BY published_on DESC, index_number DESC LIMIT ${len(args)}",
        *args,
    )
    page, more = rows[:limit], len(rows) > limit
    docs = [r["document_id"] for r in page if r["document_id"]]
    links = await _links(pool, docs) if docs else {}
    last = page[-1] if page else None
    return {
        "total": total,
        "items": [_public(r, links.get(r["document_id"])) for r in page],
        "next_cursor": encode_cursor(last["published_on"], last["index_number"]) if more and last else None,
    }


async def get_item(pool: asyncpg.Pool, index_number: str) -> dict[str, Any] | None:
    """An item with its text, links and every published version (newest first)."""
    r = await pool.fetchrow(f"SELECT {_COLUMNS}, body FROM catalog_items WHERE index_number=$1", index_number)
    if r is None:
        return None
    doc = r["document_id"]
    links = (await _links(pool, [doc]))[doc] if doc else None
    item = _public(r, links)
    versions = await pool.fetch(
        "SELECT document_version, published_on, reason, metadata FROM catalog_versions"
        " WHERE document_id=$1 ORDER BY document_version DESC",
        doc,
    )
    item["versions"] = [_version(index_number, v) for v in versions]
    return item


def _version(index_number: str, v: asyncpg.Record) -> dict[str, Any]:
    m = json.loads(v["metadata"]) if isinstance(v["metadata"], str) else v["metadata"]
    return {
        "document_version": v["document_version"],
        "published_on": v["published_on"].isoformat(),
        "reason": v["reason"],
        "title": m.get("title"),
        "doc_number": m.get("doc_number"),
        "summary": m.get("summary"),
        "files": public_files(index_number, m.get("files")),
    }


@dataclass(frozen=True)
class ItemFile:
    """A file the public may download: its reference, and how to name it (the title of the
    newest published version naming it; its place among that version's files)."""

    ref: dict[str, Any]
    title: str
    position: int  # 1-based
    count: int


async def item_file(pool: asyncpg.Pool, index_number: str, sha256: str, ext: str) -> ItemFile | None:
    """A file of the item with this 索引号, in its current version or any version published
    before (catalog_versions); None for anything else: another item's file, a file of a version
    not published (an amendment not yet signed), an encrypted reference, or an extension other
    than the file's type. Two index reads: the item by its number, its versions by document."""
    item = await pool.fetchrow(
        "SELECT document_id, title, files FROM catalog_items WHERE index_number=$1", index_number
    )
    if item is None:
        return None
    versions: list[tuple[str, Any]] = [(item["title"], item["files"])]
    if item["document_id"] is not None:
        rows = await pool.fetch(
            "SELECT metadata FROM catalog_versions WHERE document_id=$1 ORDER BY document_version DESC",
            item["document_id"],
        )
        for r in rows:
            m = json.loads(r["metadata"]) if isinstance(r["metadata"], str) else r["metadata"]
            versions.append((m.get("title") or item["title"], m.get("files")))
    for title, files in versions:
        shown = public_files(index_number, files)
        for i, f in enumerate(shown):
            if f["sha256"] == sha256 and FILE_EXTENSIONS[f["media_type"]] == ext:
                ref = {k: f[k] for k in ("sha256", "size", "media_type")}
                return ItemFile(ref=ref, title=title, position=i + 1, count=len(shown))
    return None


async def category_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """法定主动公开内容: how many items each Art. 20 category holds."""
    rows = await pool.fetch(
        "SELECT category, count(*) AS n FROM catalog_items"
        " WHERE kind = ANY($1::text[]) AND category IS NOT NULL GROUP BY category",
        list(SECTION_KINDS),
    )
    return {r["category"]: r["n"] for r in rows}


async def newest(pool: asyncpg.Pool, limit: int) -> list[dict[str, Any]]:
    """The items most recently published, amended or repealed (the feed), newest change first."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM catalog_items ORDER BY coalesce(updated_seq, seq) DESC LIMIT $1",
        limit,
    )
    return [_public(r, None) for r in rows]
