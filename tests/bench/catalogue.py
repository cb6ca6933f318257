"""Benchmark: Chinese full-text search over the public catalogue (issue 10: p50/p99 over 100k).

Loads GONGKAI_BENCH_CATALOGUE_N items (default 100,000; the issue's figure) with COPY into
``publishing.catalog_items`` with its search index in place (the GENERATED ``search`` column of
migration 0006 is computed for every row), titles and ~300-character bodies drawn from a
vocabulary of government-document words. Then times ``queries.list_items`` (the whole API read:
the count, one page of 20 and its links) for a common two-character word (in about a third of the
items), a rare one (about 1 in 10,000), a word with a category and year filter, and the second
page by cursor, next to a primary-key lookup and the unfiltered first page measured in the same run.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg

from gongkai_publishing import queries
from gongkai_shared.db import migrate
from tests.bench.context import Context
from tests.harness import migrations_of
from tests.servers import new_database

TOPIC = "catalogue"
COMMON = "管理"
RARE = "冰雕"  # in 1 of every RARE_EVERY items
RARE_EVERY = 10_000
WORDS = (
    "关于 印发 通知 实施 意见 工作 方案 管理 办法 规定 加强 推进 做好 开展 建设 发展 服务 保障 教育 "
    "卫生 医疗 养老 就业 社会 保险 财政 预算 决算 资金 项目 招生 考试 学校 幼儿园 交通 道路 环境 "
    "保护 安全 生产 食品 药品 监督 检查 行政 许可 处罚 审批 登记 备案 公示 公告 统计 数据 规划 "
    "城市 农村 乡村 振兴 住房 公积金 补贴 救助 扶贫 应急 预案 防汛 消防 文化 旅游 体育 科技 创新 "
    "企业 市场 价格 收费 标准 采购 招标 投标 合同 人员 招聘 录用 公务员 岗位 培训 考核 年度 报告"
).split()
CATEGORIES = list(queries.CATEGORIES)
BODIES = ("document", "document", "document", "policy", "interpretation")


def _sentence(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(words))


def _rows(n: int, seed: int = 10) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    start = date(2019, 1, 1)
    out = []
    for i in range(1, n + 1):
        day = start + timedelta(days=i * 2500 // n)
        title = f"{day.year}年{_sentence(rng, 3)}的{rng.choice(('通知', '意见', '办法', '公告'))}".replace(
            COMMON, "治理"
        )
        body = "。".join(_sentence(rng, 12) for _ in range(6)) + "。"
        body = body.replace(COMMON, "治理")  # the common word only where we put it: a known share
        if i % 3 == 0:
            body += f"进一步规范{COMMON}。"
        if i % RARE_EVERY == 0:
            body += f"举办{RARE}展览。"
        out.append(
            (f"000014349/{day.year}-{i:06d}", f"bench-{i}", f"bench-{i}", title, body, "000014349", day,
             f"e{i}", i, "内容概述", rng.choice(("示例市教育局", "示例市财政局", "示例市卫生健康委员会")),
             day - timedelta(days=10), rng.choice(CATEGORIES), rng.choice(BODIES))
        )  # fmt: skip
    return out


COLUMNS = [
    "index_number", "item_id", "document_id", "title", "body", "agency_code", "published_on",
    "event_id", "seq", "summary", "issuing_body", "formed_on", "category", "kind",
]  # fmt: skip


async def _times(read: Callable[[], Awaitable[Any]], times: int) -> tuple[float, float]:
    took = []
    for _ in range(times):
        t = time.perf_counter()
        await read()
        took.append((time.perf_counter() - t) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.99))]


async def bench(ctx: Context) -> None:
    n = int(os.environ.get("GONGKAI_BENCH_CATALOGUE_N", "100000"))
    reps = int(os.environ.get("GONGKAI_BENCH_CATALOGUE_REPS", "100"))
    _, url = await new_database(ctx.dsn)
    await migrate(url, "publishing", migrations_of("publishing"))
    rows = _rows(n)
    conn = await asyncpg.connect(url)
    t = time.perf_counter()
    for lo in range(0, n, 10_000):
        await conn.copy_records_to_table(
            "catalog_items", records=rows[lo : lo + 10_000], columns=COLUMNS, schema_name="publishing"
        )
    load_s = time.perf_counter() - t
    await conn.execute("VACUUM ANALYZE publishing.catalog_items")
    await conn.close()
    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=2, server_settings={"search_path": "publishing"}
    )
    assert pool is not None
    try:
        r, F = ctx.report, queries.Filters
        common = await queries.list_items(pool, F(q=COMMON), 20, None)
        rare = await queries.list_items(pool, F(q=RARE), 20, None)
        assert common["total"] == n // 3 and rare["total"] == n // RARE_EVERY, (
            common["total"],
            rare["total"],
        )
        after = queries.decode_cursor(common["next_cursor"])
        some = rows[n // 2][0]

        async def pk() -> None:
            assert await queries.get_item(pool, some) is not None

        base50, base99 = await _times(pk, reps)
        r.add(TOPIC, f"load {n} items by COPY (search vector and GIN index maintained)", n / load_s, "rows/s",
              note=f"{load_s:.1f} s")  # fmt: skip
        r.add(TOPIC, "item by index number (get_item), p50", base50, "ms", note=f"p99 {base99:.1f} ms")
        first50, first99 = await _times(lambda: queries.list_items(pool, F(), 20, None), reps)
        r.add(TOPIC, "first page, no search (list_items), p50", first50, "ms",
              baseline="get_item", baseline_value=base50, note=f"p99 {first99:.1f} ms")  # fmt: skip
        cases = [
            (f"search common word '{COMMON}' ({n // 3} hits), first page", F(q=COMMON), None),
            (f"search common word '{COMMON}', page 2 by cursor", F(q=COMMON), after),
            (f"search rare word '{RARE}' ({n // RARE_EVERY} hits)", F(q=RARE), None),
            ("search '通知' + category + year", F(q="通知", category="budget", year=2022), None),
            (f"search four characters '规范{COMMON}' (3 bigrams)", F(q=f"规范{COMMON}"), None),
        ]
        for name, f, cursor in cases:
            p50, p99 = await _times(lambda f=f, cursor=cursor: queries.list_items(pool, f, 20, cursor), reps)
            r.add(TOPIC, f"{name}, p50", p50, "ms", baseline="get_item", baseline_value=base50,
                  note=f"p99 {p99:.1f} ms; count + page of 20 + links; {n} items")  # fmt: skip
            r.add(TOPIC, f"{name}, p99", p99, "ms", baseline="get_item p99", baseline_value=base99)
    finally:
        await pool.close()
