"""Notify's projection (``notify.clock``): cases, their deadlines, the calendar and the notice outbox.

For each case it keeps the events the clock folds (``cases.events``), recomputes every deadline
of the case (``deadline_store.recompute``) whenever one arrives, and keeps what the log records
about each deadline. A ``calendar-loaded`` event stores the year and enqueues the open cases
whose deadlines touch it (``recompute_queue``; the recompute worker does them in chunks).
Notices are written to the outbox in the transaction of the event that causes them.

What each event does (``REACTIONS`` below; every event of a case also folds into its clock when
``deadlines.folds`` keeps it: a clock event, or the delivery of a letter that starts a period):

=============================  ==================================================================
request-received               a new case: its clock starts; the receipt (登记回执) to the applicant
document-registered            a new document: its clock starts (主动公开, publication.py)
clock events (``folds``)       the case's deadlines recomputed; its queued recompute is done
review's letters (LETTER_*)    the letter to the applicant or the consulted party
deadline-set                   recorded; when the due date moved, the staff are told (old, new, why)
deadline-suspended             recorded
deadline-warning               recorded; the staff are warned
deadline-breached              recorded; the staff are told, an answer's breach goes to the head
notice-delivery-attempted      the delivery's attempts and status
calendar-loaded                the year stored; the open cases it touches enqueued for recompute
=============================  ==================================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime

import asyncpg

from gongkai_shared.calendar_store import CalendarCache, store_year
from gongkai_shared.clock import OFFICE_TZ, Clock
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.profiles import profile

from . import notices
from .deadline_store import recompute
from .domain.deadlines import CLOSING, Cause, ClockEvent, Deadline, clock_data, folds
from .domain.publication import DOCUMENT_CLOSING, STARTS, holder
from .outbox import delivery_attempted, write_notice
from .settings import NotifySettings

# calendar-loaded: the open cases with a deadline whose counted days may touch the year (a warning
# counts back from the due date, hence the margin after the year's end)
_ENQUEUE = """
INSERT INTO recompute_queue (case_id, calendar_seq, cause_event_id, first_due)
SELECT d.case_id, $1, $2, min(d.due_on) FROM deadlines d JOIN cases c USING (case_id)
WHERE c.open AND d.status IN ('running', 'suspended', 'paused')
  AND d.start_on <= $4 AND (d.due_on IS NULL OR d.due_on >= $3)
GROUP BY d.case_id
ON CONFLICT (case_id) DO UPDATE SET calendar_seq = EXCLUDED.calendar_seq,
    cause_event_id = EXCLUDED.cause_event_id, first_due = EXCLUDED.first_due
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
        if name == "request-received":
            await self._received(conn, event)
            return
        if name == STARTS:
            await self._document_registered(conn, event)
            return
        case_id = event.aggregate_id
        row = await conn.fetchrow("SELECT events FROM cases WHERE case_id=$1", case_id)
        if row is None:
            return  # not a case nor a document, or one notify never saw start
        await conn.execute("UPDATE cases SET last_seq=$2 WHERE case_id=$1", case_id, event.seq)
        if folds(name, event.envelope.data):
            events = json.loads(row["events"]) + [self._clock_event(event).as_json()]
            await conn.execute(
                "UPDATE cases SET events=$2::jsonb, open = open AND NOT $3 WHERE case_id=$1",
                case_id,
                json.dumps(events),
                name in CLOSING or name in DOCUMENT_CLOSING,
            )
            await self._recompute(conn, case_id, events, Cause(event.id, name))
            # computed on every calendar year loaded so far: a queued recompute has nothing to add
            await conn.execute("DELETE FROM recompute_queue WHERE case_id=$1", case_id)
        reaction = REACTIONS.get(name)
        if reaction is not None:
            await reaction(self, conn, event)

    # --- the clock ------------------------------------------------------------------------

    @staticmethod
    def _clock_event(event: StoredEvent) -> ClockEvent:
        on = event.envelope.time.astimezone(OFFICE_TZ).date()
        return ClockEvent(event.seq, event.id, event.name, on, clock_data(event.name, event.envelope.data))

    async def _recompute(
        self, conn: asyncpg.Connection, case_id: str, events: list[dict], cause: Cause
    ) -> list[Deadline]:
        return await recompute(
            conn,
            case_id,
            events,
            cause,
            default_profile=self.default_profile,
            calendar=await self.calendars.get(conn),
            warn_days=self.settings.warn_days,
        )

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
        computed = await self._recompute(conn, case_id, events, Cause(event.id, event.name))
        answer = next(x for x in computed if x.kind == "answer")
        n = notices.make(
            event.id,
            "receipt",
            "applicant",
            contact.get("email"),
            "receipt",
            self.settings.letterhead(),
            _issued_on(event),
            name=d["applicant"]["name"],
            received_on=d["received_on"],
            description=d["description"],
            answer_days=answer.working_days,
            due_on=answer.due_on.isoformat() if answer.due_on else "—",
            provisional=answer.provisional,
            case_id=case_id,
            tracking_url=self.settings.tracking_url,
        )
        await self._notice(conn, event, n)

    async def _document_registered(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        """A document's clock: kept for every document (an amendment may make it 主动公开), with
        only its versions, dates and attributes (publication.document_data)."""
        events = [self._clock_event(event).as_json()]
        inserted = await conn.fetchval(
            "INSERT INTO cases(case_id, events, last_seq) VALUES ($1,$2::jsonb,$3) ON CONFLICT DO NOTHING"
            " RETURNING true",
            event.aggregate_id,
            json.dumps(events),
            event.seq,
        )
        if not inserted:
            await conn.execute("UPDATE cases SET last_seq=$2 WHERE case_id=$1", event.aggregate_id, event.seq)
            return
        await self._recompute(conn, event.aggregate_id, events, Cause(event.id, event.name))

    async def _calendar_loaded(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        b = event.body()
        await store_year(conn, b, event.seq, event.id)
        first, last = date(b.year, 1, 1), date(b.year, 12, 31)
        await conn.execute(_ENQUEUE, event.seq, event.id, first, last)

    # --- what the log records of a deadline --------------------------------------------------

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
            self.settings.letterhead(),
            _issued_on(event),
            kind_label=notices.KIND_LABELS.get(s["kind"], s["kind"]),
            subject=old["subject"],
            holder=holder(s["kind"]),
            case_id=s["case_id"],
            old_due_on=old["rec_due_on"].isoformat(),
            old_calendar_version=old["rec_calendar_version"],
            due_on=s["due_on"],
            calendar_version=s["calendar_version"],
            provisional=s["provisional"],
            cause=cause,
        )
        await self._notice(conn, event, n)

    async def _deadline_suspended(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        await conn.execute(
            "UPDATE deadlines SET rec_status='suspended', pending_event_id=NULL WHERE deadline_id=$1",
            event.envelope.data["deadline_id"],
        )

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
            self.settings.letterhead(),
            _issued_on(event),
            kind_label=notices.KIND_LABELS.get(w["kind"], w["kind"]),
            subject=subject,
            holder=holder(w["kind"]),
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
            holder=holder(b["kind"]),
            case_id=b["case_id"],
            due_on=b["due_on"],
            detected_on=detected,
        )
        office, on = self.settings.letterhead(), _issued_on(event)
        staff = notices.make(
            event.id,
            "breach",
            "staff",
            self.settings.staff_email,
            "breach",
            office,
            on,
            escalated=False,
            **values,
        )
        await self._notice(conn, event, staff)
        if b["kind"] == "answer":  # escalation to the office head
            head = notices.make(
                event.id, "escalation", "head", self.settings.head_email, "breach", office, on,
                escalated=True, **values,
            )  # fmt: skip
            await self._notice(conn, event, head)

    # --- notices ------------------------------------------------------------------------------

    async def _letter(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        email = await conn.fetchval("SELECT email FROM contacts WHERE case_id=$1", event.aggregate_id)
        letter = event.envelope.data.get("letter")
        if letter is None:  # an event that sends a letter only in some cases (第三十五条)
            return
        await self._notice(conn, event, notices.letter_notice(event.id, event.name, letter, email))

    async def _delivery_attempted(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        await delivery_attempted(conn, event)

    async def _notice(self, conn: asyncpg.Connection, event: StoredEvent, n: notices.Notice) -> None:
        await write_notice(conn, self.settings, self.clock, event, n)


def _issued_on(event: StoredEvent) -> date:
    """A notice is dated the Beijing day of the event that caused it (the same on a rebuild)."""
    return event.envelope.time.astimezone(OFFICE_TZ).date()


Reaction = Callable[[ClockProjection, asyncpg.Connection, StoredEvent], Awaitable[None]]

# what an event of a known case does besides folding into its clock
REACTIONS: dict[str, Reaction] = {
    **dict.fromkeys(notices.LETTER_EVENTS, ClockProjection._letter),
    "deadline-set": ClockProjection._deadline_set,
    "deadline-suspended": ClockProjection._deadline_suspended,
    "deadline-warning": ClockProjection._warning,
    "deadline-breached": ClockProjection._breached,
    "notice-delivery-attempted": ClockProjection._delivery_attempted,
}
