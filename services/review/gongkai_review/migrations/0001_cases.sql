-- Review's projection: the case queue and each case's decision.
CREATE TABLE cases (
    case_id         text PRIMARY KEY,
    received_on     date NOT NULL,
    channel         text NOT NULL,
    applicant_name  text NOT NULL,
    applicant_type  text NOT NULL,
    description     text NOT NULL,
    form            text NOT NULL,
    delivery        text NOT NULL,
    status          text NOT NULL,
    outcome         text,
    reasons         jsonb,
    legal_basis     text,
    decided_by      text,
    decided_at      timestamptz,
    answer_due      date,
    overdue         boolean NOT NULL DEFAULT false,
    last_seq        bigint NOT NULL
);
CREATE INDEX cases_queue ON cases (status, received_on);
