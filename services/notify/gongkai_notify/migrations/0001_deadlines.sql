-- Notify's projection: each case's answer state and its deadlines.
CREATE TABLE cases (
    case_id   text PRIMARY KEY,
    answered  boolean NOT NULL DEFAULT false,
    last_seq  bigint NOT NULL,
    caused_by text NOT NULL
);

CREATE TABLE deadlines (
    deadline_id      text PRIMARY KEY,
    case_id          text NOT NULL REFERENCES cases(case_id),
    kind             text NOT NULL,
    start_on         date NOT NULL,
    working_days     int NOT NULL,
    due_on           date NOT NULL,
    profile          text NOT NULL,
    calendar_version text NOT NULL,
    provisional      boolean NOT NULL,
    set_seq          bigint,      -- the deadline-set event recording this computation
    breached_seq     bigint       -- the deadline-breached event, once emitted
);
CREATE INDEX deadlines_due ON deadlines (due_on) WHERE breached_seq IS NULL;
CREATE INDEX deadlines_case ON deadlines (case_id);
