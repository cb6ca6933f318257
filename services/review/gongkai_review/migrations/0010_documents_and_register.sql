-- Issue 10: the agency's documents as review knows them (publishing's document-registered,
-- document-amended, repealed), so decisions name documents by id and copy their identity; and
-- review's copy of the refusal register (information.register_entries of every signed decision,
-- then refusal-reviewed and refusal-lifted on foi.review.<entry-id>.*). register.py writes both.
CREATE TABLE IF NOT EXISTS review_documents (
    document_id   text PRIMARY KEY,
    version       integer NOT NULL,
    title         text NOT NULL,
    doc_number    text,
    issuing_body  text NOT NULL,
    department    text NOT NULL,
    attribute     text NOT NULL,
    formed_on     date NOT NULL,
    repealed_on   date,
    updated_seq   bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS review_documents_title ON review_documents (title, document_id);

CREATE TABLE IF NOT EXISTS refusal_register (
    entry_id        text PRIMARY KEY,
    document_id     text NOT NULL,
    title           text NOT NULL,
    doc_number      text,
    issuing_body    text NOT NULL,
    part            text,
    reason          text NOT NULL,
    explanation     text NOT NULL,
    case_id         text NOT NULL,
    decision        text NOT NULL,          -- decision-recorded | review-approved
    registered_on   date NOT NULL,          -- the decision's (Beijing) day
    registered_seq  bigint NOT NULL,
    review_due_on   date NOT NULL,          -- registered_on + REVIEW_EVERY_DAYS, then each review's next date
    last_reviewed_on date,
    last_review_reason text,
    last_seq        bigint NOT NULL DEFAULT 0,  -- the entry's own last event (foi.review.<entry>.*), 0: none
    lifted_on       date,
    lifted_reason   text
);
CREATE INDEX IF NOT EXISTS refusal_register_document ON refusal_register (document_id) WHERE lifted_on IS NULL;
CREATE INDEX IF NOT EXISTS refusal_register_due ON refusal_register (review_due_on, entry_id) WHERE lifted_on IS NULL;
CREATE INDEX IF NOT EXISTS refusal_register_order ON refusal_register (registered_seq, entry_id);

CREATE TABLE IF NOT EXISTS refusal_history (
    entry_id  text NOT NULL,
    seq       bigint NOT NULL,
    at        timestamptz NOT NULL,
    event     text NOT NULL,
    actor     text NOT NULL,
    role      text NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (entry_id, seq)
);
