-- A btree entry holds at most 2704 bytes: a long description (5000 characters, up to 20 000
-- bytes) in the repeat-detection index stopped the projection. Index the keys' hashes instead;
-- the query compares the keys themselves too.
DROP INDEX IF EXISTS cases_repeat;
CREATE INDEX cases_repeat ON cases (md5(applicant_key), md5(description_key));
