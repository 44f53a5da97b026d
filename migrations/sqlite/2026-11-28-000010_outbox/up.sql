-- The transactional outbox of email reminders: a reminder is queued in the same
-- transaction as the event that causes it (an assessment, a published notice, a
-- planning pass) and sent later by a worker, so a mail server that is down loses
-- nothing. The mail is rendered when queued: it says what was true at that moment.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- declare | pay | overdue | notice_published
    kind            TEXT NOT NULL,
    employer_id     BIGINT NOT NULL REFERENCES employers (id),
    levy_year       INTEGER NOT NULL,
    -- The step of the reminder: due-30d, overdue-1, notice-17, …
    stage           TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_zh         TEXT NOT NULL,
    body_en         TEXT NOT NULL,
    -- pending | sent | dead
    status          TEXT NOT NULL DEFAULT 'pending',
    -- Refusals by the SMTP server so far (an unreachable server is not counted).
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- The worker holding the reminder, and until when (a lease: a worker that dies
    -- mid-send releases it by letting it expire).
    locked_by       TEXT,
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    -- At most one reminder per employer, kind, levy year and stage: queueing again is
    -- a no-op (INSERT … ON CONFLICT DO NOTHING).
    UNIQUE (employer_id, kind, levy_year, stage)
);
-- What the worker asks for: pending reminders by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
