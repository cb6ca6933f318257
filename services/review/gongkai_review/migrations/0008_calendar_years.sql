-- loaded years of the working-day calendar (calendar-loaded events), as notify keeps them: review's
-- rules (correction period, consultation period, extension) count on the same calendar as the clock
CREATE TABLE calendar_years (
    year          int PRIMARY KEY,
    holidays      date[] NOT NULL,
    adjusted      date[] NOT NULL,
    source        text NOT NULL,
    revision      int NOT NULL,
    seq           bigint NOT NULL,
    event_id      text NOT NULL
);
