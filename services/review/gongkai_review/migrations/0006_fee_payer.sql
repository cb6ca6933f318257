-- Fees by the number of applications (国办函〔2020〕109号): "the same applicant" (payer_key, see
-- case.payer_key) and the month of the original receipt date (first_received_on, never moved by
-- registration or correction). Cases received before these columns: from their request-received.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS payer_key text;
ALTER TABLE cases ADD COLUMN IF NOT EXISTS first_received_on date;
UPDATE cases c SET
  first_received_on = (t.data->>'received_on')::date,
  payer_key = CASE
    WHEN coalesce(regexp_replace(t.data->'applicant'->>'id_number', '\s', '', 'g'), '') <> ''
      THEN 'id:' || upper(regexp_replace(t.data->'applicant'->>'id_number', '\s', '', 'g'))
    ELSE 'name:' || regexp_replace(t.data->'applicant'->>'name', '\s', '', 'g') || '|' || coalesce(
      nullif(regexp_replace(coalesce(t.data->'applicant'->'contact'->>'phone', ''), '\D', '', 'g'), ''),
      nullif(lower(trim(coalesce(t.data->'applicant'->'contact'->>'email', ''))), ''),
      regexp_replace(coalesce(t.data->'applicant'->'contact'->>'address', ''), '\s', '', 'g'))
  END
FROM case_trail t
WHERE t.case_id = c.case_id AND t.event = 'request-received' AND c.payer_key IS NULL;
CREATE INDEX IF NOT EXISTS cases_payer_month ON cases (md5(payer_key), first_received_on);
