-- Audit (issue 11): the events of other aggregates that name a case (a catalogue item's
-- published or publication-refused, a letter number, a read of the applicant's details), by
-- case, so a case's whole trail is its own history plus these sequences, never a scan of the
-- stream. Filled by the cases projection (case_links.py); events applied before this table are
-- taken from what the projection already kept (published in case_trail, personal_data_reads);
-- the rest (letter numbers, refused publications) appear once review's projection is rebuilt.
CREATE TABLE IF NOT EXISTS case_links (
    case_id      text   NOT NULL,
    seq          bigint NOT NULL,
    aggregate_id text   NOT NULL,
    event        text   NOT NULL,
    PRIMARY KEY (case_id, seq)
);
INSERT INTO case_links(case_id, seq, aggregate_id, event)
SELECT case_id, seq, '', event FROM case_trail WHERE event = 'published'
ON CONFLICT DO NOTHING;
INSERT INTO case_links(case_id, seq, aggregate_id, event)
SELECT case_id, seq, 'reads-' || case_id, 'personal-data-viewed' FROM personal_data_reads
ON CONFLICT DO NOTHING;
