-- Issue 9 (Art. 30): a correction moves the date the answer period runs from (received_on), not
-- the application's own receipt date (first_received_on, 0006), by which 本年新收 (table 三, row
-- 一) counts and the fee month is chosen. A registration's receipt date (letters, in person) is the
-- application's own: cases folded before take it from the trail.
ALTER TABLE cases ADD COLUMN corrected_on date;
UPDATE cases c SET first_received_on = COALESCE(
    (SELECT (t.data->>'received_on')::date FROM case_trail t
      WHERE t.case_id = c.case_id AND t.event = 'case-registered' ORDER BY t.seq LIMIT 1),
    c.first_received_on, c.received_on);
UPDATE cases c SET corrected_on = (
    SELECT (t.data->>'received_on')::date FROM case_trail t
     WHERE t.case_id = c.case_id AND t.event = 'clarification-received' ORDER BY t.seq DESC LIMIT 1);
ALTER TABLE cases ALTER COLUMN first_received_on SET NOT NULL;
CREATE INDEX cases_first_receipt ON cases (first_received_on);
