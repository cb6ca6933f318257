"""``gongkai calendar load FILE``: a year's working-day schedule, sent to notify's API (the only
writer of notify's events), which appends ``calendar-loaded`` and recomputes the deadlines."""

from __future__ import annotations

import json
from argparse import Namespace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import yaml

from gongkai_shared.auth import operator_token

from .. import credentials
from ..settings import CliError, CliSettings


def read_calendar_file(path: Path) -> dict[str, Any]:
    """The file's mapping as written (JSON or YAML), dates as ISO text. What it means (ranges,
    which days may be listed) is notify's rule: notify's API checks it and names each problem."""
    if not path.exists():
        raise CliError(f"no such file: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except Exception as e:  # noqa: BLE001 — a parse error of either format
        raise CliError(f"{path}: cannot parse ({type(e).__name__}: {e})") from None
    if not isinstance(raw, dict):
        raise CliError(f"{path}: expected a mapping with year, holidays, adjusted_working_days, source")
    return json.loads(json.dumps(raw, default=_iso))


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _problems(response: httpx.Response) -> str:
    """Notify's refusal: its message, then each failing field on its own line."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    lines = [str(body.get("message", body))]
    lines += [f"  {e.get('field')}: {e.get('message')}" for e in body.get("errors") or []]
    return "\n".join(lines)


async def load(settings: CliSettings, args: Namespace) -> int:
    """Send the year's schedule to notify; notify appends ``calendar-loaded`` and recomputes the
    open deadlines."""
    body = read_calendar_file(args.file)
    base = settings.service_url()
    token = operator_token(credentials.auth_secret(settings))
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(
                f"{base}/api/v1/calendar/years", json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as e:
        raise CliError(f"cannot reach notify at {base} ({type(e).__name__}); is `make up` running?") from None
    if r.status_code >= 400:
        raise CliError(f"notify refused the calendar ({r.status_code}): {_problems(r)}")
    done = r.json()
    if done["already_loaded"]:
        print(f"calendar {done['year']} revision {done['revision']} is already loaded; nothing to do")
        return 0
    print(
        f"loaded calendar {done['year']} revision {done['revision']}: {done['holidays']} holidays,"
        f" {done['adjusted_working_days']} adjusted working days (sequence {done['sequence']});"
        " notify recomputes the open deadlines"
    )
    return 0
