-- The complete workflow: each case's folded state, its decision trail, repeat detection keys.
ALTER TABLE cases ADD COLUMN state jsonb;
ALTER TABLE cases ADD COLUMN profile text;
ALTER TABLE cases ADD COLUMN applicant_key text;
ALTER TABLE cases ADD COLUMN description_key text;
CREATE INDEX cases_repeat ON cases (applicant_key, description_key);

CREATE TABLE case_trail (
    case_id  text NOT NULL REFERENCES cases(case_id),
    seq      bigint NOT NULL,
    at       timestamptz NOT NULL,
    event    text NOT NULL,
    actor    text NOT NULL,
    role     text NOT NULL,
    data     jsonb NOT NULL,
    PRIMARY KEY (case_id, seq)
);
