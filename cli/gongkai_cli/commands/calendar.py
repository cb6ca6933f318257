"""``gongkai calendar load FILE``: a year's working-day schedule, sent to notify's API (the only
writer of notify's events), which appends ``calendar-loaded`` and recomputes the deadlines."""

from __future__ import annotations

import json
from argparse import Namespace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from gongkai_shared.auth import operator_token

from .. import credentials
from ..settings import CliError, CliSettings


def read_calendar_file(path: Path) -> dict[str, Any]:
    """A year's schedule from JSON or YAML: year, holidays, adjusted_working_days, source.

    Holidays and adjusted working days are dates (``2027-01-01``) or ranges
    (``2027-02-06..2027-02-14``, or ``{from: ..., to: ...}``).
    """
    if not path.exists():
        raise CliError(f"no such file: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except Exception as e:  # noqa: BLE001 — a parse error of either format
        raise CliError(f"{path}: cannot parse ({type(e).__name__}: {e})") from None
    if not isinstance(raw, dict):
        raise CliError(f"{path}: expected a mapping with year, holidays, adjusted_working_days, source")
    missing = [k for k in ("year", "holidays", "source") if k not in raw]
    if missing:
        raise CliError(f"{path}: missing {', '.join(missing)}")
    year = raw["year"]
    if not isinstance(year, int) or not 2000 <= year <= 2200:
        raise CliError(f"{path}: year must be a year, not {year!r}")

    def one(v: object) -> date:
        if isinstance(v, date):
            return v
        try:
            return date.fromisoformat(str(v))
        except ValueError:
            raise CliError(f"{path}: not a date: {v!r}") from None

    def days(field: str) -> list[date]:
        out: list[date] = []
        for item in raw.get(field) or []:
            if isinstance(item, dict):
                a, b = one(item.get("from")), one(item.get("to"))
            elif isinstance(item, str) and ".." in item:
                a, b = (one(x.strip()) for x in item.split("..", 1))
            else:
                a = b = one(item)
            if b < a:
                raise CliError(f"{path}: {field}: range ends before it starts: {item!r}")
            out += [a + timedelta(days=i) for i in range((b - a).days + 1)]
        for d in out:
            if d.year != year:
                raise CliError(f"{path}: {field}: {d} is not in {year}")
        return sorted(set(out))

    holidays, adjusted = days("holidays"), days("adjusted_working_days")
    both = set(holidays) & set(adjusted)
    if both:
        raise CliError(f"{path}: both a holiday and a working day: {', '.join(map(str, sorted(both)))}")
    if not str(raw["source"]).strip():
        raise CliError(f"{path}: source (the notice the schedule comes from) must not be empty")
    return {
        "year": year,
        "holidays": holidays,
        "adjusted_working_days": adjusted,
        "source": str(raw["source"]),
    }


async def load(settings: CliSettings, args: Namespace) -> int:
    """Send the year's schedule to notify; notify appends ``calendar-loaded`` and recomputes the
    open deadlines."""
    spec = read_calendar_file(args.file)
    base = settings.service_url()
    token = operator_token(credentials.auth_secret(settings))
    body = {**spec, "holidays": [d.isoformat() for d in spec["holidays"]],
            "adjusted_working_days": [d.isoformat() for d in spec["adjusted_working_days"]]}  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(
                f"{base}/api/v1/calendar/years", json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as e:
        raise CliError(f"cannot reach notify at {base} ({type(e).__name__}); is `make up` running?") from None
    if r.status_code >= 400:
        try:
            detail = r.json()
        except ValueError:
            detail = r.text
        raise CliError(f"notify refused the calendar ({r.status_code}): {detail}")
    done = r.json()
    if done["already_loaded"]:
        print(f"calendar {done['year']} revision {done['revision']} is already loaded; nothing to do")
        return 0
    print(
        f"loaded calendar {done['year']} revision {done['revision']}: {len(spec['holidays'])} holidays,"
        f" {len(spec['adjusted_working_days'])} adjusted working days (sequence {done['sequence']});"
        " notify recomputes the open deadlines"
    )
    return 0
