-- A btree entry holds at most 2704 bytes: a long refused description or withheld part (up to
-- 5000 characters) in the unique (seq, key) index stopped the projection. Unique on the key's
-- hash instead (an event registers each text once).
ALTER TABLE refusal_register DROP CONSTRAINT IF EXISTS refusal_register_seq_key_key;
CREATE UNIQUE INDEX refusal_register_seq_key ON refusal_register (seq, md5(key));
