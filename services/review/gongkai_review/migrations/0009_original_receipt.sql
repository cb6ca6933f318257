-- Issue 9 (Art. 30): a correction moves the date the answer period runs from (received_on), not
-- the application's own receipt date, by which 本年新收 (table 三, row 一) counts.
ALTER TABLE cases ADD COLUMN original_received_on date;
ALTER TABLE cases ADD COLUMN corrected_on date;
-- cases folded before: their state has no separate date; received_on is the original unless a
-- correction was received (those take the request-received event's date from the trail)
UPDATE cases c SET original_received_on = COALESCE(
    (SELECT (t.data->>'received_on')::date FROM case_trail t
      WHERE t.case_id = c.case_id AND t.event = 'case-registered' ORDER BY t.seq LIMIT 1),
    c.received_on);
UPDATE cases c SET corrected_on = (
    SELECT (t.data->>'received_on')::date FROM case_trail t
     WHERE t.case_id = c.case_id AND t.event = 'clarification-received' ORDER BY t.seq DESC LIMIT 1);
ALTER TABLE cases ALTER COLUMN original_received_on SET NOT NULL;
CREATE INDEX cases_original_receipt ON cases (original_received_on);
