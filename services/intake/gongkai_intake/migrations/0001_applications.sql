-- Intake's projection: what an applicant may see of their case, found by tracking code hash.
CREATE TABLE applications (
    case_id        text PRIMARY KEY,
    tracking_hash  text NOT NULL UNIQUE,
    channel        text NOT NULL,
    received_on    date NOT NULL,
    received_at    timestamptz NOT NULL,
    status         text NOT NULL,
    outcome        text,
    answer_due     date,
    due_provisional boolean,
    overdue        boolean NOT NULL DEFAULT false,
    last_seq       bigint NOT NULL
);

CREATE TABLE application_history (
    case_id  text NOT NULL REFERENCES applications(case_id),
    seq      bigint NOT NULL,
    at       timestamptz NOT NULL,
    event    text NOT NULL,
    detail   jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, seq)
);
