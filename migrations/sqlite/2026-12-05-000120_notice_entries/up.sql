-- The entries of a notice as rows (docs/notices.md): a notice of a million employers is
-- published, paged, searched and served a chunk at a time instead of as one text.
-- `notices.content_json` of a notice with `entries_in_rows` holds the content with an
-- empty `entries` array; the digest is still over the whole content, the entries
-- spliced in in `entry_no` order. Notices published before keep their entries in
-- `content_json` and are read as before.
ALTER TABLE notices ADD COLUMN entries_in_rows BOOLEAN NOT NULL DEFAULT 0;

-- One employer of a notice, as published. The text of each field is kept as it was
-- hashed. The foreign key is checked at commit: the entries are written while the
-- region is read, before the notice row (whose digest and counts they give) exists.
CREATE TABLE notice_entries (
    notice_id   BIGINT NOT NULL REFERENCES notices (id) DEFERRABLE INITIALLY DEFERRED,
    entry_no    INTEGER NOT NULL,
    uscc        TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    kind_zh     TEXT NOT NULL,
    region      TEXT NOT NULL,
    region_name TEXT NOT NULL,
    staff       TEXT,
    required    TEXT,
    counted     TEXT,
    status      TEXT NOT NULL,
    status_zh   TEXT NOT NULL,
    PRIMARY KEY (notice_id, entry_no)
) WITHOUT ROWID;
-- An objection names its entry by USCC.
CREATE INDEX notice_entries_uscc ON notice_entries (notice_id, uscc);

-- Published means frozen: once the notice row exists, its entries are neither added,
-- changed nor removed.
CREATE TRIGGER notice_entries_never_added BEFORE INSERT ON notice_entries
WHEN EXISTS (SELECT 1 FROM notices WHERE id = NEW.notice_id)
BEGIN
    SELECT RAISE(ABORT, 'a published notice is never edited; publish a correction');
END;

CREATE TRIGGER notice_entries_never_updated BEFORE UPDATE ON notice_entries
BEGIN
    SELECT RAISE(ABORT, 'a published notice is never edited; publish a correction');
END;

CREATE TRIGGER notice_entries_never_deleted BEFORE DELETE ON notice_entries
BEGIN
    SELECT RAISE(ABORT, 'a published notice is never deleted; publish a correction');
END;

-- A notice lists its region's employers by county, name and USCC, by code point
-- (SQLite compares text by bytes, which for UTF-8 is code-point order): publishing
-- reads them in this order a chunk at a time, and this index serves it.
CREATE INDEX employers_notice_order ON employers (region, name, uscc);
