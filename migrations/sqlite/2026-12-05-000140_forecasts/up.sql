-- In-year forecasts (docs/forecast.md): an employer's months so far of the current
-- year (headcounts, wages, disabled employees), from which the year-end ratio and the
-- levy of the next levy year are projected. One per employer and year; a new entry
-- replaces it (the audit log records each change, without the roster).
CREATE TABLE forecasts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id    BIGINT NOT NULL REFERENCES employers (id),
    -- The calendar year entered: the data year of levy year + 1.
    year           INTEGER NOT NULL,
    -- Months entered so far (January first), 1-12.
    months_entered INTEGER NOT NULL CHECK (months_entered BETWEEN 1 AND 12),
    -- The body as sent (canonical JSON); holds certificate numbers: never logged.
    body_json      TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (employer_id, year)
);
-- What the warning step reads: the forecasts of one year.
CREATE INDEX forecasts_year ON forecasts (year, employer_id);
