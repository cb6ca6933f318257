"""Notify's projection (``notify.clock``): cases, their deadlines, the calendar and the notice outbox.

For each case it keeps the events the clock folds (``cases.events``), recomputes every deadline
of the case (a pure function, ``domain.compute_case``) whenever one arrives, and keeps what the
log records about each deadline (``deadline-set``/``-suspended``/``-warning``/``-breached``).
A ``calendar-loaded`` event updates the calendar table and recomputes every open case. Notices
are written to the outbox in the same transaction as the event that causes them.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from gongkai_shared.calendar import LoadedYear, WorkingCalendar
from gongkai_shared.clock import OFFICE_TZ, Clock
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.profiles import profile

from . import notices
from .domain import CLOCK_EVENTS, CLOSING, ClockEvent, Deadline, clock_data, compute_case, warn_on
from .settings import NotifySettings


class CalendarCache:
    """The working calendar with every loaded year, re-read when the table changes."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._cal = WorkingCalendar()

    async def get(self, conn: asyncpg.Connection) -> WorkingCalendar:
        n, seq = await conn.fetchrow("SELECT count(*), coalesce(max(seq), 0) FROM calendar_years")
        if (n, seq) != self._key:
            rows = await conn.fetch("SELECT year, holidays, adjusted, source, revision FROM calendar_years")
            self._cal = WorkingCalendar(
                {
                    r["year"]: LoadedYear(
                        frozenset(r["holidays"]), frozenset(r["adjusted"]), r["source"], r["revision"]
                    )
                    for r in rows
                }
            )
            self._key = (n, seq)
        return self._cal


def deadline_from_row(r: Any) -> Deadline:
    """A computed deadline as stored (no trace): what the dispatcher needs to record it."""
    from .domain import Cause

    return Deadline(
        deadline_id=r["deadline_id"],
        case_id=r["case_id"],
        kind=r["kind"],
        subject=r["subject"],
        start_on=r["start_on"],
        base_days=r["working_days"],
        extension_days=0,
        due_on=r["due_on"],
        profile=r["profile"],
        calendar_version=r["calendar_version"],
        provisional=r["provisional"],
        status=r["status"],
        enforced=r["enforced"],
        count_start=False,
        cause=Cause(r["cause_id"], r["cause_type"]),
        status_cause=Cause(r["status_cause_id"], "") if r["status_cause_id"] else None,
        status_since=r["status_since"],
    )


_UPSERT = """
INSERT INTO deadlines AS d (deadline_id, case_id, kind, subject, start_on, working_days, due_on, warn_on,
    profile, calendar_version, provisional, status, status_since, status_cause_id, enforced,
    cause_id, cause_type, explain)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
ON CONFLICT (deadline_id) DO UPDATE SET
    start_on=EXCLUDED.start_on, working_days=EXCLUDED.working_days, due_on=EXCLUDED.due_on,
    warn_on=EXCLUDED.warn_on, profile=EXCLUDED.profile, calendar_version=EXCLUDED.calendar_version,
    provisional=EXCLUDED.provisional, status=EXCLUDED.status, status_since=EXCLUDED.status_since,
    status_cause_id=EXCLUDED.status_cause_id, enforced=EXCLUDED.enforced, explain=EXCLUDED.explain,
    cause_id = CASE WHEN (d.due_on, d.status, d.provisional, d.working_days) IS DISTINCT FROM
        (EXCLUDED.due_on, EXCLUDED.status, EXCLUDED.provisional, EXCLUDED.working_days)
        THEN EXCLUDED.cause_id ELSE d.cause_id END,
    cause_type = CASE WHEN (d.due_on, d.status, d.provisional, d.working_days) IS DISTINCT FROM
        (EXCLUDED.due_on, EXCLUDED.status, EXCLUDED.provisional, EXCLUDED.working_days)
        THEN EXCLUDED.cause_type ELSE d.cause_type END
"""


class ClockProjection:
    name = "notify.clock"

    def __init__(self, settings: NotifySettings, clock: Clock, calendars: CalendarCache) -> None:
        self.settings, self.clock, self.calendars = settings, clock, calendars
        self.default_profile = profile(settings.profile)

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        name = event.name
        if name == "calendar-loaded":
            await self._calendar_loaded(conn, event)
            return
        case_id = event.aggregate_id
        if name == "request-received":
            await self._received(conn, event)
            return
        row = await conn.fetchrow("SELECT events FROM cases WHERE case_id=$1", case_id)
        if row is None:
            return  # not a case (a catalogue item), or a case notify never saw received
        await conn.execute("UPDATE cases SET last_seq=$2 WHERE case_id=$1", case_id, event.seq)
        if name in CLOCK_EVENTS:
            events = json.loads(row["events"]) + [self._clock_event(event).as_json()]
            await conn.execute(
                "UPDATE cases SET events=$2::jsonb, open = open AND NOT $3 WHERE case_id=$1",
                case_id,
                json.dumps(events),
                name in CLOSING,
            )
            await self._recompute(conn, case_id, events, event)
        if name in notices.LETTER_EVENTS:
            email = await conn.fetchval("SELECT email FROM contacts WHERE case_id=$1", case_id)
            letter = event.envelope.data["letter"]
            await self._notice(conn, event, notices.letter_notice(event.id, name, letter, email))
        elif name == "deadline-set":
            await self._deadline_set(conn, event)
        elif name == "deadline-suspended":
            await conn.execute(
                "UPDATE deadlines SET rec_status='suspended', pending_event_id=NULL WHERE deadline_id=$1",
                event.envelope.data["deadline_id"],
            )
        elif name == "deadline-warning":
            await self._warning(conn, event)
        elif name == "deadline-breached":
            await self._breached(conn, event)
        elif name == "notice-delivery-attempted":
            d = event.envelope.data
            await conn.execute(
                "UPDATE deliveries SET attempts=GREATEST(attempts, $2),"
                " status = CASE WHEN status='sent' THEN 'sent' WHEN $3='sent' THEN 'sent'"
                "  WHEN $3='failed' THEN 'failed' ELSE status END,"
                " sent_at = CASE WHEN $3='sent' THEN coalesce(sent_at, $4) ELSE sent_at END,"
                " last_error = $5 WHERE delivery_id=$1",
                d["delivery_id"],
                d["attempt"],
                d["status"],
                event.envelope.time,
                d.get("error"),
            )

    # --- the clock ------------------------------------------------------------------------

    @staticmethod
    def _clock_event(event: StoredEvent) -> ClockEvent:
        on = event.envelope.time.astimezone(OFFICE_TZ).date()
        return ClockEvent(event.seq, event.id, event.name, on, clock_data(event.name, event.envelope.data))

    async def _received(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        d = event.envelope.data
        case_id = event.aggregate_id
        events = [self._clock_event(event).as_json()]
        inserted = await conn.fetchval(
            "INSERT INTO cases(case_id, events, last_seq) VALUES ($1,$2::jsonb,$3) ON CONFLICT DO NOTHING"
            " RETURNING true",
            case_id,
            json.dumps(events),
            event.seq,
        )
        if not inserted:  # a second receipt for a case already known: the first one stands
            await conn.execute("UPDATE cases SET last_seq=$2 WHERE case_id=$1", case_id, event.seq)
            return
        contact = d["applicant"].get("contact") or {}
        await conn.execute(
            "INSERT INTO contacts(case_id, name, email) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING",
            case_id,
            d["applicant"]["name"],
            contact.get("email"),
        )
        computed = await self._recompute(conn, case_id, events, event)
        answer = next(x for x in computed if x.kind == "answer")
        n = notices.make(
            event.id,
            "receipt",
            "applicant",
            contact.get("email"),
            "receipt",
            name=d["applicant"]["name"],
            received_on=d["received_on"],
            description=d["description"],
            answer_days=answer.working_days,
            due_on=answer.due_on.isoformat() if answer.due_on else "—",
            provisional=answer.provisional,
            case_id=case_id,
        )
        await self._notice(conn, event, n)

    async def _recompute(
        self, conn: asyncpg.Connection, case_id: str, events: list[dict], cause: StoredEvent
    ) -> list[Deadline]:
        cal = await self.calendars.get(conn)
        computed = compute_case(case_id, [ClockEvent.from_json(e) for e in events], self.default_profile, cal)
        for x in computed:
            warn = warn_on(x.due_on, self.settings.warn_days, cal) if x.due_on and x.enforced else None
            await conn.execute(
                _UPSERT,
                x.deadline_id,
                x.case_id,
                x.kind,
                x.subject,
                x.start_on,
                x.working_days,
                x.due_on,
                warn,
                x.profile,
                x.calendar_version,
                x.provisional,
                x.status,
                x.status_since,
                x.status_cause.id if x.status_cause else None,
                x.enforced,
                cause.id,
                cause.name,
                json.dumps(x.explain(), ensure_ascii=False),
            )
        return computed

    async def _calendar_loaded(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        b = event.body()
        await conn.execute(
            "INSERT INTO calendar_years(year, holidays, adjusted, source, revision, seq, event_id)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (year) DO UPDATE SET holidays=EXCLUDED.holidays,"
            " adjusted=EXCLUDED.adjusted, source=EXCLUDED.source, revision=EXCLUDED.revision,"
            " seq=EXCLUDED.seq, event_id=EXCLUDED.event_id",
            b.year,
            list(b.holidays),
            list(b.adjusted_working_days),
            b.source,
            b.revision,
            event.seq,
            event.id,
        )
        for row in await conn.fetch("SELECT case_id, events FROM cases WHERE open ORDER BY case_id"):
            await self._recompute(conn, row["case_id"], json.loads(row["events"]), event)

    async def _deadline_set(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        s = event.envelope.data
        old = await conn.fetchrow("SELECT * FROM deadlines WHERE deadline_id=$1", s["deadline_id"])
        await conn.execute(
            "UPDATE deadlines SET rec_status='running', rec_due_on=$2, rec_provisional=$3,"
            " rec_calendar_version=$4, set_count=set_count+1, set_seq=$5, pending_event_id=NULL"
            " WHERE deadline_id=$1",
            s["deadline_id"],
            date.fromisoformat(s["due_on"]),
            s["provisional"],
            s["calendar_version"],
            event.seq,
        )
        if old is None or old["rec_due_on"] is None or old["rec_due_on"].isoformat() == s["due_on"]:
            return
        # the recorded due date moved: tell the staff, old and new, and why
        why = old["cause_type"]
        cause = "新的年度节假日安排已载入" if why == "calendar-loaded" else f"案件事件：{why}"
        n = notices.make(
            event.id,
            "deadline_recomputed",
            "staff",
            self.settings.staff_email,
            "recompute",
            kind_label=notices.KIND_LABELS.get(s["kind"], s["kind"]),
            subject=old["subject"],
            case_id=s["case_id"],
            old_due_on=old["rec_due_on"].isoformat(),
            old_calendar_version=old["rec_calendar_version"],
            due_on=s["due_on"],
            calendar_version=s["calendar_version"],
            provisional=s["provisional"],
            cause=cause,
        )
        await self._notice(conn, event, n)

    async def _warning(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        w = event.envelope.data
        subject = await conn.fetchval(
            "UPDATE deadlines SET warned_for=$2, pending_event_id=NULL WHERE deadline_id=$1"
            " RETURNING subject",
            w["deadline_id"],
            date.fromisoformat(w["due_on"]),
        )
        n = notices.make(
            event.id,
            "warning",
            "staff",
            self.settings.staff_email,
            "warning",
            kind_label=notices.KIND_LABELS.get(w["kind"], w["kind"]),
            subject=subject,
            case_id=w["case_id"],
            due_on=w["due_on"],
            working_days_left=w["working_days_left"],
            warn_days=w["warn_days"],
        )
        await self._notice(conn, event, n)

    async def _breached(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        b = event.envelope.data
        subject = await conn.fetchval(
            "UPDATE deadlines SET breached_seq=coalesce(breached_seq, $2), pending_event_id=NULL"
            " WHERE deadline_id=$1 RETURNING subject",
            b["deadline_id"],
            event.seq,
        )
        detected = datetime.fromisoformat(b["detected_at"]).astimezone(OFFICE_TZ).date().isoformat()
        values = dict(
            kind_label=notices.KIND_LABELS.get(b["kind"], b["kind"]),
            subject=subject,
            case_id=b["case_id"],
            due_on=b["due_on"],
            detected_on=detected,
        )
        await self._notice(
            conn,
            event,
            notices.make(
                event.id, "breach", "staff", self.settings.staff_email, "breach", escalated=False, **values
            ),
        )
        if b["kind"] == "answer":  # escalation to the office head
            await self._notice(
                conn,
                event,
                notices.make(
                    event.id,
                    "escalation",
                    "head",
                    self.settings.head_email,
                    "breach",
                    escalated=True,
                    **values,
                ),
            )

    # --- the outbox -----------------------------------------------------------------------

    async def _notice(self, conn: asyncpg.Connection, event: StoredEvent, n: notices.Notice) -> None:
        age = self.settings.notice_max_age_hours
        if age and event.envelope.time < self.clock.now() - timedelta(hours=age):
            return  # a rebuild replaying old history: those notices were due long ago
        created = await conn.fetchval(
            "INSERT INTO notices(notice_id, case_id, kind, audience, title, body, cause_event_id, cause_seq,"
            " created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING RETURNING true",
            n.notice_id,
            event.aggregate_id,
            n.kind,
            n.audience,
            n.title,
            n.body,
            event.id,
            event.seq,
            event.envelope.time,
        )
        if not created:
            return
        targets: list[tuple[str, str]] = []
        if n.email and self.settings.smtp_host:
            targets.append(("email", n.email))
        targets += [("webhook", url) for url in self.settings.webhooks()]
        for channel, address in targets:
            await conn.execute(
                "INSERT INTO deliveries(delivery_id, notice_id, channel, address) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT DO NOTHING",
                notices.delivery_id(n.notice_id, channel, address),
                n.notice_id,
                channel,
                address,
            )
