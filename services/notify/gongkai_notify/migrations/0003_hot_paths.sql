-- Issue 12: no work proportional to the whole caseload or the whole stream on a hot path.

-- The dispatcher's due work, each part on its own partial index, so a tick reads only open work
-- whatever the number of closed cases (dispatcher.py spells the same predicates).
DROP INDEX IF EXISTS deadlines_open;
-- a computation the log does not record yet (deadline-set / deadline-suspended to append)
CREATE INDEX deadlines_unrecorded ON deadlines (due_on NULLS FIRST, deadline_id)
    WHERE enforced AND (
        (status = 'running' AND due_on IS NOT NULL AND (rec_status <> 'running'
            OR rec_due_on IS DISTINCT FROM due_on OR rec_provisional IS DISTINCT FROM provisional))
        OR (status IN ('suspended', 'paused') AND rec_status = 'running'));
-- a recorded, running, unbreached deadline: warned from warn_on, breached after due_on >= warn_on
CREATE INDEX deadlines_running ON deadlines (warn_on, deadline_id)
    WHERE enforced AND status = 'running' AND breached_seq IS NULL;

-- Calendar recomputation: calendar-loaded enqueues the open cases whose deadlines touch the
-- year; recompute.py works through them in short transactions (SKIP LOCKED), soonest due first.
CREATE TABLE recompute_queue (
    case_id        text PRIMARY KEY REFERENCES cases(case_id),
    calendar_seq   bigint NOT NULL,   -- the latest calendar-loaded that asks for it
    cause_event_id text NOT NULL,     -- that event: the cause of the recomputed deadlines
    first_due      date               -- the case's earliest open due date when enqueued
);
CREATE INDEX recompute_queue_order ON recompute_queue (first_due NULLS FIRST, case_id);

-- Deliveries: claimed for a lease (no row lock while sending), then marked in a short transaction.
ALTER TABLE deliveries ADD COLUMN lease_until timestamptz;
ALTER TABLE deliveries ADD COLUMN lease_owner text;
