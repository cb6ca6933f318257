-- Publishing: index number allocation (never reused) and the public catalogue (公开目录).
CREATE TABLE index_counters (
    agency_code text NOT NULL,
    year        int NOT NULL,
    last_seq    int NOT NULL,
    PRIMARY KEY (agency_code, year)
);

CREATE TABLE index_allocations (
    item_id      text PRIMARY KEY,
    index_number text NOT NULL UNIQUE,
    year         int NOT NULL,
    seq          int NOT NULL,
    allocated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_items (
    index_number    text PRIMARY KEY,
    item_id         text NOT NULL UNIQUE,
    title           text NOT NULL,
    content         text NOT NULL,
    agency_code     text NOT NULL,
    published_on    date NOT NULL,
    source_case_id  text,
    event_id        text NOT NULL,
    seq             bigint NOT NULL
);
CREATE INDEX catalog_by_date ON catalog_items (published_on DESC, index_number DESC);
