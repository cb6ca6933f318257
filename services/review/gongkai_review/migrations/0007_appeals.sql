-- Reconsideration and litigation on cases (行政复议、行政诉讼): the inputs of the annual report's
-- table 四, listed by the year filed and the result (NULL: 尚未审结). From appeal-filed and
-- appeal-decided events (appeals.py).
CREATE TABLE IF NOT EXISTS appeals (
    appeal_id   text PRIMARY KEY,
    case_id     text NOT NULL,
    kind        text NOT NULL,
    body        text NOT NULL,
    filed_on    date NOT NULL,
    after       text,
    result      text,
    decided_on  date,
    filed_seq   bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS appeals_filed ON appeals (filed_on, appeal_id);
CREATE INDEX IF NOT EXISTS appeals_case ON appeals (case_id);
