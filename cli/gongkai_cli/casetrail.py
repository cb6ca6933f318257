"""A case's whole trail and its replay, for ``gongkai audit history`` and ``audit replay``.

The trail is read from the log as the ``auditor`` NATS user and checked here, with the root
verifier key, as ``audit verify`` checks the log (gongkai_shared.trail): the case's own events
from its first one (a subject-indexed read, never a scan), and the events of other aggregates
that name it, at the sequences review's index lists (``GET /api/v1/audit/cases/{id}/trail``,
with an auditor's API token in GONGKAI_AUDITOR_TOKEN). The index only says where to look: each
event is read and verified here, and one that does not name the case is left out.

The replay is review's own fold (the CLI may not import a service): ``GET …/replay``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from gongkai_shared.eventstore import EventStore
from gongkai_shared.trail import TrailEntry, read_trail
from gongkai_shared.trust import KeyRing

from .connections import api
from .settings import CliError, CliSettings

NEEDS_TOKEN = (
    "an auditor's API token is needed for this (GONGKAI_AUDITOR_TOKEN; an administrator issues it"
    " with `gongkai users token <login>` for an account holding the auditor role)"
)


def _path(case_id: str, view: str) -> str:
    return f"/api/v1/audit/cases/{quote(case_id, safe='')}/{view}"


async def linked_seqs(settings: CliSettings, case_id: str) -> list[int] | None:
    """The sequences of the events of other aggregates that name the case (review's index);
    None without an auditor's token."""
    if not settings.auditor_token:
        return None
    try:
        trail = await api(settings, "GET", _path(case_id, "trail"), token=settings.auditor_token)
    except CliError as e:
        if " 404 " in str(e):
            return []  # review knows no such case: the log says whether it has events
        raise
    return [e["seq"] for e in trail["events"] if not e["own"]]


async def trail(store: EventStore, settings: CliSettings, case_id: str, root_vkey: str) -> list[TrailEntry]:
    linked = await linked_seqs(settings, case_id)
    if linked is None:
        note = "note: the case's own events only; for the events that follow from it elsewhere,"
        print(f"{note} {NEEDS_TOKEN}", file=sys.stderr)
    return await read_trail(store, case_id, linked or [], KeyRing(root_vkey))


def trail_line(e: TrailEntry) -> str:
    mark = " " if e.own else "+"  # + an event of another aggregate that names the case
    return (
        f"{e.seq:>8}  {e.time}  {e.subject}  {e.role}:{e.actor}  {e.event_id}"
        f"  signature:{e.signature}  hash-link:{e.hash_link}{mark}"
    )


def as_of(text: str | None) -> datetime | None:
    """An ISO 8601 time; a date alone is 00:00 that day; without an offset, Beijing time."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"--as-of {text!r} is not a time: give ISO 8601, e.g. 2026-03-01T17:00:00+08:00"
            " (without an offset: Beijing time)"
        ) from None


async def replay(
    settings: CliSettings, case_id: str, when: datetime | None, seq: int | None
) -> dict[str, Any]:
    if not settings.auditor_token:
        raise CliError(NEEDS_TOKEN)
    query = {k: v for k, v in (("as_of", when.isoformat() if when else None), ("seq", seq)) if v is not None}
    path = _path(case_id, "replay") + (f"?{urlencode(query)}" if query else "")
    return dict(await api(settings, "GET", path, token=settings.auditor_token))


def render(view: dict[str, Any]) -> str:
    """The replay for a reader: state, deadlines, decision trail, letters, notices, actors."""
    s = view["state"]
    at = f"as of {view['as_of']}" if view["as_of"] else "now"
    if view["upto_seq"]:
        at += f", log position <= {view['upto_seq']}"
    pending = ", ".join(view["pending_steps"]) or "-"
    out = [
        f"case {view['case_id']} {at}: {view['events']} events up to seq {view['position']}"
        f" ({view['position_time']}); {view['events_after']} later event(s) not applied",
        f"  status: {view['status']} ({view['status_label']}); pending steps: {pending}",
        f"  received on {s['received_on']}; answer due {s.get('answer_due') or '-'};"
        f" outcome {s.get('outcome_code') or '-'}; signed by {s.get('signed_by') or '-'};"
        f" answered on {s.get('answered_on') or '-'}",
    ]
    out.append("deadlines:")
    out += [
        f"  {d['kind']:<10} {d['status']:<10} due {d.get('due_on', '-')}  ({d['deadline_id']})"
        for d in view["deadlines"]
    ] or ["  -"]
    out.append("decision trail:")
    for t in view["decision_trail"]:
        details = {k: v for k, v in t["details"].items() if k != "case_id"}
        out.append(f"  {t['seq']:>8}  {t['time']}  {t['event']:<26} {t['role']}:{t['actor']}  "
                   + json.dumps(details, ensure_ascii=False)[:200])  # fmt: skip
    out.append("letters:")
    for letter in view["letters"]:
        out.append(
            f"  {letter['seq']:>8}  {letter['kind']}  {letter.get('number') or '-'}  {letter['title']}"
        )
        out += [f"      {text}" for text in letter["body"].splitlines()]
    if not view["letters"]:
        out.append("  -")
    out.append("notices:")
    out += [
        f"  {n['seq']:>8}  {n['kind']}  {n.get('channel') or 'registrar'}  {n.get('status') or 'delivered'}"
        f"  attempt {n.get('attempt') or '-'}"
        for n in view["notices"]
    ] or ["  -"]
    out.append("actors:")
    out += [f"  {a['role']}:{a['actor']}  {a['events']} event(s), seq {a['first_seq']}..{a['last_seq']}"
            for a in view["actors"]]  # fmt: skip
    return "\n".join(out)
