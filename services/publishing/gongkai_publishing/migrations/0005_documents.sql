-- Issue 10: documents (政府信息) and their workflow, the index number log's allocations, what
-- publishing knows of answered cases (Art. 44), and the refusal register by document identity.
CREATE TABLE documents (
    document_id       text PRIMARY KEY,
    department        text NOT NULL,
    version           int NOT NULL,            -- the current (latest) version
    kind              text NOT NULL,
    attribute         text NOT NULL,
    interprets        text,                    -- an interpretation's policy document
    published_version int,                     -- the version the catalogue shows
    index_number      text,
    repealed_on       date,
    repeal_reason     text,
    replaced_by       text,
    first_seq         bigint NOT NULL,
    last_seq          bigint NOT NULL
);
CREATE INDEX documents_interprets ON documents (interprets) WHERE interprets IS NOT NULL;

CREATE TABLE document_versions (
    document_id   text NOT NULL REFERENCES documents (document_id),
    version       int NOT NULL,
    metadata      jsonb NOT NULL,             -- events.DocumentMetadata
    submitted_by  text NOT NULL,
    reason        text,                       -- an amendment's
    changed_on    date,
    review_passed boolean,                    -- 保密审查 (NULL: not yet)
    review_notes  text,
    reviewed_by   text,
    signed_by     text,                       -- 签发
    seq           bigint NOT NULL,
    PRIMARY KEY (document_id, version)
);

-- the events of documents and of Art. 44 decisions: a document's history, and how a command
-- retried with the same Idempotency-Key finds the event it already appended
CREATE TABLE document_events (
    event_id     text PRIMARY KEY,
    aggregate_id text NOT NULL,
    seq          bigint NOT NULL,
    name         text NOT NULL,
    actor        text NOT NULL,
    at           timestamptz NOT NULL,
    data         jsonb NOT NULL
);
CREATE INDEX document_events_by_aggregate ON document_events (aggregate_id, seq);

-- Art. 44: what the answer of a case disclosed (answer-sent, review-approved)
CREATE TABLE case_disclosures (
    case_id     text PRIMARY KEY,
    answered_on date,
    disclosed   text[] NOT NULL DEFAULT '{}',   -- the answer's disclosed documents
    approved    text[] NOT NULL DEFAULT '{}',   -- the signed decision's documents
    seq         bigint NOT NULL
);

-- the refusal register by document (information.register_entries); an entry stands until lifted
CREATE TABLE refusal_entries (
    entry_id      text PRIMARY KEY,
    document_id   text NOT NULL,
    title         text NOT NULL,
    doc_number    text,
    issuing_body  text NOT NULL,
    part          text,
    reason        text NOT NULL,
    explanation   text NOT NULL,
    case_id       text NOT NULL,
    seq           bigint NOT NULL,
    lifted_on     date,
    lifted_reason text,
    lifted_seq    bigint
);
CREATE INDEX refusal_entries_standing ON refusal_entries (document_id) WHERE lifted_on IS NULL;
