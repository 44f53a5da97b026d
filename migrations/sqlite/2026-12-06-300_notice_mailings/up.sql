-- The mails a published notice owes its employers (docs/notices.md, "Mails"). The
-- publication records that they are owed, in its own transaction; the planner then
-- queues them in the outbox a chunk of entries at a time, each chunk in one
-- transaction with the place it reached, so a crash between the two, or in the
-- middle, loses no mail, and the outbox's unique key keeps a chunk planned twice from
-- queueing anything twice. Notices published before this table queued their mails
-- with the publication and have no row here.
CREATE TABLE notice_mailings (
    notice_id       BIGINT PRIMARY KEY NOT NULL REFERENCES notices (id),
    -- The last entry (entry_no) whose mail is queued; 0 before the first chunk.
    planned_through INTEGER NOT NULL DEFAULT 0,
    -- Mails queued so far.
    queued          BIGINT NOT NULL DEFAULT 0,
    -- Set once every entry is planned.
    finished_at     TIMESTAMP
);
