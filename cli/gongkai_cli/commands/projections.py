"""``gongkai projections check|rebuild|drop-old SERVICE``: a service's projections replayed
from sequence 1 (ARCHITECTURE.md §2), through the service's operator endpoints.

The service does the work (its own database role, its own projection code): ``check`` rebuilds
aside and lists every difference from the live tables (exit 1 when there is one); ``rebuild``
rebuilds and swaps the result in while the service keeps answering and projecting, keeping the
replaced tables as ``<schema>_old_<timestamp>`` for a rollback (docs/operations.md);
``drop-old`` drops those.
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from typing import Any

from gongkai_shared.access import SERVICES

from ..connections import api
from ..settings import CliError, CliSettings

BASE = "/api/v1/status/projections"


def _base(settings: CliSettings, args: Namespace) -> str:
    if args.service not in SERVICES:
        raise CliError(f"no service {args.service!r}: one of {', '.join(SERVICES)}")
    return (args.url or "").rstrip("/") or settings.ops_service_url(args.service)


def _value(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


def check_report(result: dict[str, Any]) -> str:
    """The comparison as text: positions, then per table its rows and each differing row (table,
    key, column, live value, rebuilt value); the counts are complete where the listing is cut."""
    service = result["service"]
    total = result["differing_rows"]
    lines = [
        f"{service}: the rebuilt projections equal the live ones"
        if result["equal"]
        else f"{service}: {total} row(s) differ between the live and the rebuilt projections"
    ]
    for name, p in result["positions"].items():
        mark = "" if p["live"] == p["rebuilt"] else "  <- differs"
        lines.append(f"{name}: live at {p['live']}, rebuilt at {p['rebuilt']}{mark}")
    for table, t in result["tables"].items():
        lines.append(f"{table}: {t['rows']} rows, {t['differing']} differ")
        for d in t["differences"]:
            key = ", ".join(f"{k}={v}" for k, v in d["key"].items())
            if d["kind"] == "changed":
                for c in d["columns"]:
                    lines.append(
                        f"  {table} ({key}) {c['column']}: live {_value(c['live'])}, "
                        f"rebuilt {_value(c['rebuilt'])}"
                    )
            elif d["kind"] == "only_live":
                lines.append(f"  {table} ({key}): only in the live table: {_value(d['live'])}")
            else:
                lines.append(f"  {table} ({key}): missing from the live table: {_value(d['rebuilt'])}")
        if t["differing"] > t["shown"]:
            lines.append(f"  ... and {t['differing'] - t['shown']} more in {table}")
    return "\n".join(lines)


async def check(settings: CliSettings, args: Namespace) -> int:
    base = _base(settings, args)
    body = {"timeout": args.timeout}
    result = await api(settings, "POST", f"{BASE}/check", body, base=base, timeout=args.timeout + 60)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        print(check_report(result))
    return 0 if result["equal"] else 1


async def rebuild(settings: CliSettings, args: Namespace) -> int:
    base = _base(settings, args)
    body = {"drop_old": args.drop_old, "timeout": args.timeout}
    result = await api(settings, "POST", f"{BASE}/rebuild", body, base=base, timeout=args.timeout + 60)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return 0
    positions = ", ".join(f"{n} at {p}" for n, p in result["positions"].items())
    print(
        f"{result['service']}: rebuilt from sequence 1 and swapped in ({positions}) in "
        f"{result['seconds']}s; the live projections waited {result['held_seconds']}s"
    )
    if result["old_schema"]:
        print(
            f"the replaced tables are kept as schema {result['old_schema']} for a rollback; "
            f"`gongkai projections drop-old {result['service']}` drops them"
        )
    for name in result["dropped"]:
        print(f"dropped {name}")
    return 0


async def drop_old(settings: CliSettings, args: Namespace) -> int:
    result = await api(settings, "DELETE", f"{BASE}/old", base=_base(settings, args), timeout=120)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        print("\n".join(f"dropped {n}" for n in result["dropped"]) or "nothing to drop")
    return 0
