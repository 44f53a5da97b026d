-- The entries of a notice as rows (docs/notices.md): a notice of a million employers is
-- published, paged, searched and served a chunk at a time instead of as one text.
-- `notices.content_json` of a notice with `entries_in_rows` holds the content with an
-- empty `entries` array; the digest is still over the whole content, the entries
-- spliced in in `entry_no` order. Notices published before keep their entries in
-- `content_json` and are read as before. (Adding a column fires no update trigger.)
ALTER TABLE notices ADD COLUMN entries_in_rows BOOLEAN NOT NULL DEFAULT FALSE;

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
);
-- An objection names its entry by USCC.
CREATE INDEX notice_entries_uscc ON notice_entries (notice_id, uscc);

-- Published means frozen: once the notice row exists, its entries are neither added,
-- changed nor removed. One check per statement over the rows it inserted.
CREATE FUNCTION notice_entries_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted i JOIN notices n ON n.id = i.notice_id) THEN
        RAISE EXCEPTION 'a published notice is never edited; publish a correction';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER notice_entries_never_added AFTER INSERT ON notice_entries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notice_entries_frozen();

CREATE TRIGGER notice_entries_never_changed BEFORE UPDATE OR DELETE ON notice_entries
    FOR EACH ROW EXECUTE FUNCTION notices_immutable();

-- A notice lists its region's employers by county, name and USCC, by code point: the
-- "C" collation compares UTF-8 text by bytes, which is code-point order, whatever the
-- database's own collation. Publishing reads them in this order a chunk at a time (the
-- query names the same collation), and this index serves it.
CREATE INDEX employers_notice_order
    ON employers (region COLLATE "C", name COLLATE "C", uscc COLLATE "C");
