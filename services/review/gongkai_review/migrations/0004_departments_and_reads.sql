-- A handler sees and acts on the cases assigned to their department only: the queue filters by it.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS departments text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS cases_departments ON cases USING gin (departments);
-- Every read of a case's personal data by staff (personal-data-viewed events), for auditors.
CREATE TABLE IF NOT EXISTS personal_data_reads (
    seq      bigint PRIMARY KEY,
    case_id  text NOT NULL,
    user_id  text NOT NULL,
    role     text NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS personal_data_reads_case ON personal_data_reads (case_id, seq);
