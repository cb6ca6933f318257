-- Issue 10: catalogue items are published documents with the metadata of DOMAIN §7.
-- The contract between the projection (which fills these from `published` v2, `amended`,
-- `repealed`) and the public read side (queries, search, pages, feed). Items of `published` v1
-- (before issue 10) keep NULL in the document columns.
ALTER TABLE catalog_items RENAME COLUMN content TO body;
ALTER TABLE catalog_items
    ADD COLUMN document_id      text UNIQUE,            -- one catalogue item per document
    ADD COLUMN document_version int,                    -- the version shown (amendments bump it)
    ADD COLUMN summary          text NOT NULL DEFAULT '',
    ADD COLUMN doc_number       text,                   -- 文号
    ADD COLUMN issuing_body     text,                   -- 发布机构
    ADD COLUMN formed_on        date,                   -- 成文日期
    ADD COLUMN category         text,                   -- information.CATEGORIES
    ADD COLUMN kind             text NOT NULL DEFAULT 'document',  -- information.DocumentKind
    ADD COLUMN keywords         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN attribute        text NOT NULL DEFAULT 'proactive',
    ADD COLUMN source           text NOT NULL DEFAULT 'on_request',  -- proactive | on_request
    ADD COLUMN files            jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN valid            boolean NOT NULL DEFAULT true,      -- 有效 / 废止
    ADD COLUMN repealed_on      date,                   -- 废止日期
    ADD COLUMN index_year       int,
    ADD COLUMN index_seq        int,
    ADD COLUMN updated_on       date,                   -- the last amendment's date
    ADD COLUMN updated_seq      bigint;                 -- the log position of the last change

-- links between items, both ways: an interpretation and its policy; a document and those it
-- replaces. Rows name documents; the index number is resolved when read (a link may name a
-- document published later).
CREATE TABLE catalog_links (
    from_document text NOT NULL,
    to_document   text NOT NULL,
    kind          text NOT NULL,          -- interprets | replaces
    seq           bigint NOT NULL,
    PRIMARY KEY (from_document, to_document, kind)
);
CREATE INDEX catalog_links_to ON catalog_links (to_document, kind);

-- every version ever published (amendments keep the history): the public item's history
CREATE TABLE catalog_versions (
    document_id      text NOT NULL,
    document_version int NOT NULL,
    index_number     text NOT NULL,
    metadata         jsonb NOT NULL,       -- events.DocumentMetadata as JSON
    published_on     date NOT NULL,        -- the day this version entered the catalogue
    reason           text,                 -- an amendment's reason
    seq              bigint NOT NULL,
    PRIMARY KEY (document_id, document_version)
);

CREATE INDEX catalog_by_category ON catalog_items (category, published_on DESC, index_number DESC);
CREATE INDEX catalog_by_body ON catalog_items (issuing_body, published_on DESC, index_number DESC);
