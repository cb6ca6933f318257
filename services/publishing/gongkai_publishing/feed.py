"""``/gongkai/feed.atom``: the newest catalogue changes as an Atom feed (RFC 4287).

One entry per item, ordered by its last change: published, amended (the entry's ``updated``
moves and its summary names the version) or repealed (its title says 已废止, with the 废止日期).
Rendered by a Jinja2 template with XML autoescaping; entry ids are the item's page address, so a
reader sees an amendment as an update of the same entry.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader

from . import queries
from .settings import PublishingSettings

router = APIRouter(prefix="/gongkai", include_in_schema=False)
_env = Environment(loader=PackageLoader("gongkai_publishing", "templates"), autoescape=True)
BEIJING = timezone(timedelta(hours=8))
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _stamp(day: date) -> str:
    """A day as an RFC 3339 date-time: the start of that day in Beijing."""
    return datetime.combine(day, time(0), BEIJING).isoformat()


def entry(item: dict[str, Any], base: str) -> dict[str, Any]:
    days = [
        date.fromisoformat(d) for d in (item["published_on"], item["updated_on"], item["repealed_on"]) if d
    ]
    url = f"{base}/gongkai/item/{quote(item['index_number'], safe='/')}"
    title = item["title"] + ("【已废止】" if not item["valid"] else "")
    notes = [f"索引号：{item['index_number']}", f"发布机构：{item['issuing_body'] or '—'}"]
    if item["doc_number"]:
        notes.append(f"文号：{item['doc_number']}")
    if item["updated_on"]:
        notes.append(f"第{item['document_version']}版，修订于{item['updated_on']}")
    if not item["valid"]:
        notes.append(f"已废止，废止日期：{item['repealed_on']}")
    return {
        "id": url,
        "url": url,
        "title": title,
        "published": _stamp(date.fromisoformat(item["published_on"])),
        "updated": _stamp(max(days)),
        "summary": item["summary"] or item["title"],
        "notes": "；".join(notes),
        "author": item["issuing_body"],
        "category": item["category"],
        "category_label": item["category_label"],
    }


@router.get("/feed.atom")
async def atom_feed(request: Request) -> Response:
    settings: PublishingSettings = request.app.state.settings
    base = settings.public_url.rstrip("/")
    items = await queries.newest(request.app.state.runtime.pool, settings.feed_items)
    entries = [entry(i, base) for i in items]
    text = _env.get_template("feed.atom.xml").render(
        feed_id=f"{base}/gongkai/feed.atom",
        base=base,
        agency=settings.agency_name,
        updated=max((e["updated"] for e in entries), default=_stamp(date(1990, 1, 1))),
        entries=entries,
    )
    return Response(text, media_type=MEDIA_TYPE)
