"""The public catalogue's read side (DOMAIN §7): search, filters, cursor pages, items with their
links and history, the column 政府信息公开 and its Atom feed, on real PostgreSQL.

Most tests fill ``catalog_items`` directly (the read side's contract, migration 0004); one runs
the public events ``published`` v2, ``amended`` and ``repealed`` from a real stream through
the publishing projection (``CatalogProjection``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gongkai_publishing.projection import CatalogProjection
from gongkai_shared.envelope import Actor
from gongkai_shared.events import (
    Amended,
    CatalogueLink,
    DocumentMetadata,
    PublishedV2,
    Repealed,
    make_event,
)
from gongkai_shared.information import CATEGORIES
from tests.harness import System
from tests.servers import NatsServer

ATOM = "{http://www.w3.org/2005/Atom}"
INTERNAL = ("source_case_id", "event_id", "item_id", "seq", "updated_seq", "document_id", "search", "key_id")
GUIDE = {"office_phone": "0571-87654321", "office_fax": "0571-87654322", "agency_name": "示例市教育局"}


@pytest.fixture
async def publishing(nats_server: NatsServer, database_url: str):
    system = await System(nats_server, database_url, publishing=GUIDE).start("publishing")
    yield system
    await system.stop()


async def connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url, server_settings={"search_path": "publishing"})


async def insert(conn: asyncpg.Connection, n: int, title: str, body: str = "", **kw: Any) -> str:
    number = kw.pop("index_number", f"000014349/{kw.get('index_year', 2025)}-{n:05d}")
    row = {
        "index_number": number, "item_id": f"doc-{n}", "document_id": f"doc-{n}", "title": title,
        "body": body, "agency_code": "000014349", "published_on": date(2025, 3, 1), "event_id": f"e{n}",
        "seq": n, "summary": "", "issuing_body": "示例市教育局", "formed_on": date(2025, 2, 20),
        "category": "social_policy", "kind": "document", "attribute": "proactive", "source": "proactive",
        **kw,
    }  # fmt: skip
    cols = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(f"INSERT INTO catalog_items({cols}) VALUES ({marks})", *row.values())
    return number


def titles(page: dict) -> set[str]:
    return {i["title"] for i in page["items"]}


def no_internal_field(value: Any) -> None:
    if isinstance(value, dict):
        assert not set(value) & set(INTERNAL), set(value) & set(INTERNAL)
        for v in value.values():
            no_internal_field(v)
    elif isinstance(value, list):
        for v in value:
            no_internal_field(v)


async def test_search_finds_a_two_character_word_in_the_title_and_in_the_body(
    publishing: System, database_url: str
) -> None:
    conn = await connect(database_url)
    await insert(conn, 1, "2025年学校招生计划", "本区各学校今年的安排。")
    await insert(conn, 2, "关于做好秋季开学工作的通知", "各校应公布招生简章和收费标准。")
    await insert(conn, 3, "养老服务补贴发放办法", "符合条件的老年人按月领取补贴。")
    await insert(conn, 4, "关于学校安全的通知", "招收新生时注意，生计问题另行通知。")  # 招…生 apart
    await conn.close()
    c = publishing.clients["publishing"]

    async def search(q: str) -> set[str]:
        r = await c.get("/api/v1/catalog", params={"q": q})
        assert r.status_code == 200, r.text
        return titles(r.json())

    assert await search("招生") == {"2025年学校招生计划", "关于做好秋季开学工作的通知"}  # title; body only
    assert await search("补贴") == {"养老服务补贴发放办法"}
    assert await search("开学") == {"关于做好秋季开学工作的通知"}
    assert await search("环保") == set()  # no item has it
    assert await search("2025年") == {"2025年学校招生计划"}  # digits and Chinese in one word
    assert await search("2024年") == set()
    assert await search("２０２５年") == {"2025年学校招生计划"}  # full-width digits are the same
    assert await search("招生计划") == {"2025年学校招生计划"}  # all its bigrams
    assert await search("学校安全") == {"关于学校安全的通知"}
    assert await search("「招生」，计划！") == {"2025年学校招生计划"}  # punctuation separates words
    assert await search("学校 补贴") == set()  # every word must occur
    assert await search("。，！") == set()  # nothing searchable: nothing found, no error
    assert await search("校") == {"2025年学校招生计划", "关于做好秋季开学工作的通知", "关于学校安全的通知"}
    assert await search("O'Brien\\ & | ! <->") == set()  # tsquery syntax is only text


async def test_filters_category_year_issuing_body_validity_and_section(
    publishing: System, database_url: str
) -> None:
    """条例 Art. 20: the categories; 有效/废止 with 废止日期."""
    conn = await connect(database_url)
    await insert(conn, 1, "预算公开", category="budget", published_on=date(2024, 12, 31), index_year=2024)
    await insert(conn, 2, "决算公开", category="budget", published_on=date(2025, 1, 1))
    await insert(conn, 3, "招考公告", category="civil_service", issuing_body="示例市人力资源和社会保障局")
    await insert(conn, 4, "旧办法", valid=False, repealed_on=date(2025, 6, 30))
    await insert(conn, 5, "公开制度", kind="disclosure_system", category=None)
    await conn.close()
    c = publishing.clients["publishing"]

    async def find(**params: Any) -> set[str]:
        r = await c.get("/api/v1/catalog", params=params)
        assert r.status_code == 200, r.text
        return titles(r.json())

    assert await find(category="budget") == {"预算公开", "决算公开"}
    assert await find(category="budget", year=2025) == {"决算公开"}
    assert await find(year=2024) == {"预算公开"}
    assert await find(issuing_body="示例市人力资源和社会保障局") == {"招考公告"}
    assert await find(valid="false") == {"旧办法"}
    assert "旧办法" not in await find(valid="true")
    assert await find(kind="disclosure_system") == {"公开制度"}
    [old] = (await c.get("/api/v1/catalog", params={"valid": "false"})).json()["items"]
    assert old["validity"] == "废止" and old["repealed_on"] == "2025-06-30"
    bad = await c.get("/api/v1/catalog", params={"category": "weather", "year": 1800, "kind": "memo"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"year", "kind"}  # checked before the category
    bad = await c.get("/api/v1/catalog", params={"category": "weather"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"


async def test_cursor_pages_cover_every_item_once_newest_first(publishing: System, database_url: str) -> None:
    conn = await connect(database_url)
    for n in range(1, 26):  # ties on the date: the index number orders them
        await insert(conn, n, f"第{n}号通知", published_on=date(2025, 3, 1 + n % 3))
    await conn.close()
    c = publishing.clients["publishing"]
    seen: list[tuple[str, str]] = []
    cursor = None
    for _ in range(4):
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = (await c.get("/api/v1/catalog", params=params)).json()
        assert page["total"] == 25
        seen += [(i["published_on"], i["index_number"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25 and len(set(seen)) == 25
    assert seen == sorted(seen, reverse=True)
    assert cursor is None

    for bad in ("not-a-cursor", "eyJhIjoxfQ", "WyIyMDI1LTEzLTAxIiwieCJd"):  # junk, {"a":1}, a bad date
        r = await c.get("/api/v1/catalog", params={"cursor": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor", r.text
    assert (await c.get("/api/v1/catalog", params={"offset": 10})).json()["total"] == 25  # ignored
    assert (await c.get("/api/v1/catalog", params={"limit": 101})).status_code == 422


async def test_items_through_the_public_events(publishing: System, database_url: str, tmp_path: Path) -> None:
    """A policy and its interpretation are linked both ways; an amendment keeps the history; a
    repeal sets 有效性 废止 with its 废止日期 and the replacing document links to it."""
    source = NatsServer(tmp_path / "events").start()  # the events, as the publishing service appends them
    try:
        store = await source.writer("publishing")
        actor = Actor.system("publishing")

        def item(doc: str, seq: int, title: str, **meta: Any) -> dict[str, Any]:
            m = DocumentMetadata(
                title=title, doc_number=meta.pop("doc_number", None), issuing_body="示例市教育局",
                formed_on=date(2025, 2, 20), attribute="proactive", category="social_policy",
                summary=f"{title}的内容概述", body=meta.pop("body", "正文。"), **meta,
            )  # fmt: skip
            return {
                "document_id": doc, "document_version": 1, "index_number": f"000014349/2025-{seq:05d}",
                "index_year": 2025, "index_seq": seq, "agency_code": "000014349", "metadata": m,
                "published_on": date(2025, 3, seq), "source": "proactive",
            }  # fmt: skip

        old = item("doc-old", 1, "学前教育资助办法（旧）")
        policy = item("doc-policy", 2, "学前教育资助办法", kind="policy", doc_number="示教发〔2025〕3号",
                      replaces=["doc-old"], keywords=["资助", "学前教育"])  # fmt: skip
        reading = item(
            "doc-reading", 3, "《学前教育资助办法》政策解读", kind="interpretation", interprets="doc-policy"
        )
        policy_links = {
            "interpretations": [
                CatalogueLink(document_id="doc-reading", index_number="000014349/2025-00003")
            ],
            "replaces": [CatalogueLink(document_id="doc-old", index_number="000014349/2025-00001")],
        }
        reading_link = {
            "interprets": CatalogueLink(document_id="doc-policy", index_number="000014349/2025-00002")
        }
        amended_meta = policy["metadata"].model_copy(
            update={"title": "学前教育资助办法（修订）", "body": "资助标准提高。"}
        )
        bodies = [
            ("doc-old", PublishedV2(**old)),
            ("doc-policy", PublishedV2(**policy, **policy_links)),
            ("doc-reading", PublishedV2(**reading, **reading_link)),
            (
                "doc-old",
                Repealed(
                    document_id="doc-old",
                    index_number="000014349/2025-00001",
                    repealed_on=date(2025, 3, 2),
                    reason="被新办法取代",
                    replaced_by=CatalogueLink(document_id="doc-policy"),
                ),
            ),  # fmt: skip
            (
                "doc-policy",
                Amended(
                    **{**policy, **policy_links, "metadata": amended_meta, "document_version": 2},
                    reason="提高资助标准",
                    amended_on=date(2025, 4, 1),
                ),
            ),  # fmt: skip
        ]
        last: dict[str, int] = {}
        for doc, body in bodies:
            stored = await store.append(
                make_event(body, aggregate_id=doc, actor=actor), "publishing", last.get(doc, 0)
            )
            last[doc] = stored.seq
        conn = await connect(database_url)
        async with conn.transaction():
            async for event in store.read(1, "foi.publishing.>"):
                await CatalogProjection().apply(conn, event)
        await conn.close()
        await store.nc.close()
    finally:
        source.stop()

    c = publishing.clients["publishing"]
    p = (await c.get("/api/v1/catalog/000014349/2025-00002")).json()
    assert (
        p["title"] == "学前教育资助办法（修订）"
        and p["document_version"] == 2
        and p["updated_on"] == "2025-04-01"
    )
    assert p["doc_number"] == "示教发〔2025〕3号" and p["category_label"] == CATEGORIES["social_policy"]
    assert p["kind_label"] == "政策文件" and p["keywords"] == ["资助", "学前教育"] and p["validity"] == "有效"
    assert p["links"]["interpretations"] == [
        {"index_number": "000014349/2025-00003", "title": "《学前教育资助办法》政策解读"}
    ]
    assert [x["index_number"] for x in p["links"]["replaces"]] == ["000014349/2025-00001"]
    assert [(v["document_version"], v["reason"]) for v in p["versions"]] == [(2, "提高资助标准"), (1, None)]
    assert p["versions"][1]["title"] == "学前教育资助办法"
    r = (await c.get("/api/v1/catalog/000014349/2025-00003")).json()
    assert r["links"]["interprets"] == {
        "index_number": "000014349/2025-00002",
        "title": "学前教育资助办法（修订）",
    }
    o = (await c.get("/api/v1/catalog/000014349/2025-00001")).json()
    assert o["validity"] == "废止" and o["repealed_on"] == "2025-03-02" and o["valid"] is False
    assert [x["index_number"] for x in o["links"]["replaced_by"]] == ["000014349/2025-00002"]
    # the amended text is searchable, the old text is not
    assert titles((await c.get("/api/v1/catalog", params={"q": "标准提高"})).json()) == {
        "学前教育资助办法（修订）"
    }
    listing = (await c.get("/api/v1/catalog")).json()
    no_internal_field(listing)
    no_internal_field(p)
    assert (await c.get("/api/v1/catalog/000014349/2025-99999")).status_code == 404

    feed = ET.fromstring((await c.get("/gongkai/feed.atom")).content)
    entries = {e.findtext(f"{ATOM}id"): e for e in feed.findall(f"{ATOM}entry")}
    amended = next(e for i, e in entries.items() if i.endswith("/gongkai/item/000014349/2025-00002"))
    assert amended.findtext(f"{ATOM}updated").startswith("2025-04-01T")
    assert "第2版" in amended.findtext(f"{ATOM}content")
    repealed = next(e for i, e in entries.items() if i.endswith("/2025-00001"))
    assert "已废止" in repealed.findtext(f"{ATOM}title") and "2025-03-02" in repealed.findtext(
        f"{ATOM}content"
    )

    page = await c.get("/gongkai/item/000014349/2025-00002")
    assert page.status_code == 200 and "政策解读" in page.text and "修订记录" in page.text
    assert "/gongkai/item/000014349/2025-00003" in page.text and "本文件取代" in page.text


async def test_the_column_has_its_four_sections_and_the_guide_from_settings(
    publishing: System, database_url: str
) -> None:
    """Art. 12 (the guide: office, address, hours, phone, fax, e-mail, how to apply) and DOMAIN §7
    (制度, 法定主动公开内容 by the Art. 20 categories with counts, 年报)."""
    conn = await connect(database_url)
    await insert(conn, 1, "示例市教育局政府信息公开工作制度", kind="disclosure_system", category=None)
    await insert(conn, 2, "示例市教育局2024年政府信息公开工作年度报告", kind="annual_report", category=None)
    await insert(conn, 3, "2025年财政预算", category="budget")
    await insert(conn, 4, "2024年财政决算", category="budget")
    await insert(conn, 5, "<script>alert(1)</script>招考", category="civil_service")
    await conn.close()
    c = publishing.clients["publishing"]
    r = await c.get("/gongkai")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    text = r.text
    for heading in ("政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报"):
        assert f"<h2>{heading}</h2>" in text
    for value in (
        "示例市教育局",
        "0571-87654321",
        "0571-87654322",
        "gongkai@example.gov.cn",
        "办公时间",
        "/apply",
    ):
        assert value in text
    assert "示例市教育局政府信息公开工作制度" in text and "2024年政府信息公开工作年度报告" in text
    assert f"{CATEGORIES['budget']}</a></td><td>2</td>" in text
    assert f"{CATEGORIES['civil_service']}</a></td><td>1</td>" in text
    assert "<script" not in text  # no script at all (CSP: same-origin scripts only)

    found = await c.get("/gongkai/search", params={"q": "招考"})
    assert found.status_code == 200 and "共找到 1 条信息" in found.text
    assert "&lt;script&gt;" in found.text and "<script" not in found.text  # escaped
    page = await c.get("/gongkai/item/000014349/2025-00003")
    for label in ("索引号", "发布机构", "成文日期", "发布日期", "文号", "主题分类", "有效性"):
        assert f"<th>{label}</th>" in page.text
    assert "2025-02-20" in page.text and CATEGORIES["budget"] in page.text
    missing = await c.get("/gongkai/item/000014349/2025-99999")
    assert missing.status_code == 404 and "未找到" in missing.text


async def test_search_pages_carry_the_filters_to_the_next_page(publishing: System, database_url: str) -> None:
    conn = await connect(database_url)
    for n in range(1, 24):
        await insert(conn, n, f"招生通知第{n}号", category="social_policy" if n % 2 else "budget")
    await conn.close()
    c = publishing.clients["publishing"]
    first = await c.get("/gongkai/search", params={"q": "招生", "category": "social_policy", "limit": 5})
    assert "共找到 12 条信息" in first.text
    next_url = first.text.split('<a href="/gongkai/search?')[1].split('"')[0].replace("&amp;", "&")
    assert "cursor=" in next_url and "category=social_policy" in next_url
    second = await c.get("/gongkai/search?" + next_url)
    assert second.status_code == 200 and "续页" in second.text


async def test_the_feed_is_atom_with_the_newest_items(publishing: System, database_url: str) -> None:
    conn = await connect(database_url)
    await insert(conn, 1, "关于A&B的“通知”<一>", summary="摘要 & 说明")
    await insert(conn, 2, "已废止的办法", valid=False, repealed_on=date(2025, 5, 1), updated_seq=9)
    await conn.close()
    r = await publishing.clients["publishing"].get("/gongkai/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{required}")
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["已废止的办法【已废止】", "关于A&B的“通知”<一>"]
    for e in entries:
        assert e.findtext(f"{ATOM}id") and e.findtext(f"{ATOM}updated") and e.find(f"{ATOM}link") is not None
    assert entries[0].findtext(f"{ATOM}updated").startswith("2025-05-01T00:00:00+08:00")
    assert entries[1].findtext(f"{ATOM}summary") == "摘要 & 说明"
    assert entries[1].find(f"{ATOM}category").get("term") == "social_policy"
    json.dumps([e.findtext(f"{ATOM}id") for e in entries])
