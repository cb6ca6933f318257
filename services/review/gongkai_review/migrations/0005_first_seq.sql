-- Each case's first event (its request-received): a case's history is read from there, never
-- from the start of the stream. Cases received before this column: from their trail's first row.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS first_seq bigint;
UPDATE cases c SET first_seq = (SELECT min(seq) FROM case_trail t WHERE t.case_id = c.case_id)
WHERE first_seq IS NULL;
