-- Issue 9 (Art. 30): the corrected application's receipt date, apart from the application's own
-- receipt date (received_on, which a correction never moves: 本年新收 counts by it).
ALTER TABLE applications ADD COLUMN corrected_on date;
UPDATE applications a SET corrected_on = (
    SELECT (h.detail->>'received_on')::date FROM application_history h
     WHERE h.case_id = a.case_id AND h.event = 'clarification-received' ORDER BY h.seq DESC LIMIT 1);
