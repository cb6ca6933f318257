-- The refusal register (seed measures Art. 25): information decided not to be disclosed, which
-- no department may publish later in any form.
CREATE TABLE refusal_register (
    id          bigserial PRIMARY KEY,
    case_id     text NOT NULL,
    kind        text NOT NULL,          -- withheld_information | withheld_part
    text        text NOT NULL,
    key         text NOT NULL,          -- normalised text used for matching
    reason      text NOT NULL,
    seq         bigint NOT NULL,
    UNIQUE (seq, key)
);
