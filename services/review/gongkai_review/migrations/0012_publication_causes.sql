-- The auditor's trail (issue 11) follows an Art. 44 decision to the publications it caused: a
-- `published` / `publication-refused` event of a document names no case (a public event carries
-- none), but its causation is the case's `publication-decided`.
CREATE TABLE case_causes (
    event_id text PRIMARY KEY,   -- a case's publication-decided
    case_id  text NOT NULL
);
