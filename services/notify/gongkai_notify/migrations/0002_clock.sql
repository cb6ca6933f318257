-- The complete clock (issue 4). The skeleton's tables are replaced; the projection is renamed
-- (notify.clock), so it is rebuilt from the log, which is the system of record.
DROP TABLE IF EXISTS deadlines;
DROP TABLE IF EXISTS cases;

-- each case: the events the clock folds (ClockEvent JSON, no personal data) and the sequence of
-- its last event (the expected sequence of notify's next append to it)
CREATE TABLE cases (
    case_id   text PRIMARY KEY,
    events    jsonb NOT NULL DEFAULT '[]',
    last_seq  bigint NOT NULL,
    open      boolean NOT NULL DEFAULT true
);

-- the applicant's contact, from request-received: notices reach the applicant here
CREATE TABLE contacts (
    case_id   text PRIMARY KEY REFERENCES cases(case_id),
    name      text NOT NULL,
    email     text
);

-- one row per deadline: the computation (pure function of the case's events, profile and
-- calendar) and what the log records of it (rec_*, set_count, warned_for, breached_seq)
CREATE TABLE deadlines (
    deadline_id      text PRIMARY KEY,
    case_id          text NOT NULL REFERENCES cases(case_id),
    kind             text NOT NULL,
    subject          text,
    start_on         date NOT NULL,
    working_days     int NOT NULL,
    due_on           date,
    warn_on          date,
    profile          text NOT NULL,
    calendar_version text NOT NULL,
    provisional      boolean NOT NULL,
    status           text NOT NULL,
    status_since     date,
    status_cause_id  text,
    enforced         boolean NOT NULL,
    cause_id         text NOT NULL,
    cause_type       text NOT NULL,
    explain          jsonb NOT NULL,
    rec_status       text NOT NULL DEFAULT 'none',
    rec_due_on       date,
    rec_provisional  boolean,
    rec_calendar_version text,
    set_count        int NOT NULL DEFAULT 0,
    set_seq          bigint,
    warned_for       date,
    breached_seq     bigint,
    pending_event_id text   -- appended by a dispatcher, not yet seen by the projection
);
CREATE INDEX deadlines_case ON deadlines (case_id);
CREATE INDEX deadlines_open ON deadlines (due_on) WHERE status IN ('running', 'suspended', 'paused');

-- loaded years of the working-day calendar (calendar-loaded events)
CREATE TABLE calendar_years (
    year          int PRIMARY KEY,
    holidays      date[] NOT NULL,
    adjusted      date[] NOT NULL,
    source        text NOT NULL,
    revision      int NOT NULL,
    seq           bigint NOT NULL,
    event_id      text NOT NULL
);

-- notices (rendered, deterministic ids) and their deliveries: the outbox
CREATE TABLE notices (
    notice_id      text PRIMARY KEY,
    case_id        text NOT NULL,
    kind           text NOT NULL,
    audience       text NOT NULL,  -- applicant | party | staff | head
    title          text NOT NULL,
    body           text NOT NULL,
    cause_event_id text NOT NULL,
    cause_seq      bigint NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX notices_case ON notices (case_id);

CREATE TABLE deliveries (
    delivery_id     text PRIMARY KEY,
    notice_id       text NOT NULL REFERENCES notices(notice_id),
    channel         text NOT NULL,  -- email | webhook
    address         text NOT NULL,
    status          text NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 'pending';
