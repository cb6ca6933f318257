"""A case as it stood (audit, issue 11): review's own fold (``case.evolve``, the code the live
projection runs) over the case's events up to a time or a log position, and what an auditor
reads beside the state: the deadlines notify recorded, the decision trail with its actors, the
letters as the events carry them, the notices' delivery attempts. Pure: the events come in.

The cut is a **prefix of the case's history in log order**: it stops at the first event after
``as_of`` (or after ``upto``), so the state shown is one the case really had, even if a writer's
clock ran behind another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gongkai_shared.eventstore import StoredEvent

from .case import LABELS, evolve
from .machine import allowed

DEADLINE_EVENTS = ("deadline-set", "deadline-suspended", "deadline-warning", "deadline-breached")
DEADLINE_STATUS = {
    "deadline-set": "running",
    "deadline-suspended": "suspended",
    "deadline-breached": "breached",
}
# what the decision trail leaves out of an event's body: the letter (listed apart) and the
# applicant's own details (the state shows the name; the rest stays in intake's event)
NOT_IN_TRAIL = ("letter", "applicant", "identity_proof")
ATTEMPT_FIELDS = ("notice_id", "kind", "channel", "attempt", "status", "error", "attempted_at")


class NotACase(Exception):
    """No ``request-received`` opens this aggregate: it is not a case."""


class BeforeTheCase(Exception):
    """The time or position asked for is before the case's first event."""

    def __init__(self, first: StoredEvent) -> None:
        super().__init__(
            f"案件于 {first.envelope.time.isoformat()}（日志序号 {first.seq}）才收到，"
            f"此前不存在 (the case was received at {first.envelope.time.isoformat()}, seq {first.seq})"
        )
        self.first = first


def cut(events: Sequence[StoredEvent], as_of: datetime | None, upto: int | None) -> list[StoredEvent]:
    """The events in log order up to the first one after ``as_of`` or after sequence ``upto``."""
    kept = []
    for e in events:
        if (upto is not None and e.seq > upto) or (as_of is not None and e.envelope.time > as_of):
            break
        kept.append(e)
    return kept


def replay(
    case_id: str, history: Sequence[StoredEvent], *, as_of: datetime | None = None, upto: int | None = None
) -> dict[str, Any]:
    """The case ``case_id`` as its ``history`` (its own events, log order) had it at ``as_of`` /
    ``upto``. Raises NotACase, BeforeTheCase."""
    if not history or history[0].name != "request-received":
        raise NotACase(case_id)
    events = cut(history, as_of, upto)
    if not events:
        raise BeforeTheCase(history[0])
    state = None
    for e in events:
        state = evolve(state, e.envelope)
    assert state is not None  # the first event opens the case
    last = events[-1]
    return {
        "case_id": case_id,
        "as_of": as_of.isoformat() if as_of else None,
        "upto_seq": upto,
        "position": last.seq,  # the case's last event in the replay
        "position_time": last.envelope.time.isoformat(),
        "events": len(events),
        "events_after": len(history) - len(events),
        "status": state.status,
        "status_label": LABELS.get(state.status, state.status),
        "pending_steps": allowed(state.status),
        "state": state.model_dump(mode="json"),
        "deadlines": deadlines(events),
        "decision_trail": decision_trail(events),
        "letters": letters(events),
        "notices": notices(events),
        "actors": actors(events),
    }


def _at(e: StoredEvent) -> dict[str, Any]:
    env = e.envelope
    return {
        "seq": e.seq,
        "time": env.time.isoformat(),
        "event": e.name,
        "actor": env.actor,
        "role": env.actorrole,
    }


def deadlines(events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """Each deadline notify recorded, as its last event left it (set, suspended, breached), with
    every event about it."""
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.name not in DEADLINE_EVENTS:
            continue
        d = e.envelope.data
        row = out.setdefault(d["deadline_id"], {"deadline_id": d["deadline_id"], "kind": d["kind"],
                                                 "status": "running", "history": []})  # fmt: skip
        if e.name in DEADLINE_STATUS:
            row["status"] = DEADLINE_STATUS[e.name]
        if e.name == "deadline-set":
            for k in ("start_on", "working_days", "due_on", "profile", "provisional"):
                row[k] = d[k]
        elif e.name == "deadline-suspended":
            row["suspended_for"] = d["reason"]
        noted: dict[str, Any] = {k: d[k] for k in ("due_on", "reason") if k in d}
        row["history"].append({**_at(e), **noted})
    return list(out.values())


def decision_trail(events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """The steps taken on the case (intake's and review's events), who took them, and what they
    recorded (drafts, sign-offs, approvals, answers...)."""
    return [
        {**_at(e), "details": {k: v for k, v in e.envelope.data.items() if k not in NOT_IN_TRAIL}}
        for e in events
        if e.context in ("intake", "review")
    ]


def letters(events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """Every letter as the event that sent it carries it (its text included)."""
    return [{**_at(e), **e.envelope.data["letter"]} for e in events if e.envelope.data.get("letter")]


def notices(events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """The attempts to deliver the case's notices, and the deliveries a registrar recorded."""
    out = []
    for e in events:
        d = e.envelope.data
        if e.name == "notice-delivery-attempted":
            out.append({**_at(e), **{k: d.get(k) for k in ATTEMPT_FIELDS}})
        elif e.name == "notice-delivered":
            out.append({**_at(e), "kind": d.get("notice"), "delivered_on": d.get("delivered_on")})
    return out


def actors(events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """Who acted on the case, in which role, how often, first and last."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        env = e.envelope
        row = out.setdefault((env.actor, env.actorrole), {"actor": env.actor, "role": env.actorrole,
                                                          "events": 0, "first_seq": e.seq})  # fmt: skip
        row["events"] += 1
        row["last_seq"] = e.seq
    return list(out.values())
