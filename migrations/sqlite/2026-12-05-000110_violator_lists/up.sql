-- The violator list of a levy year as judged on one date (src/registry/violator_list.rs):
-- one entry per listed employer with all its violations, so that the inspectors' pages
-- and the downloads read it page by page in the list's order from an index instead of
-- deciding and sorting the whole region in memory on every request. `stamp` names the
-- state of the register the list was decided on; a list whose stamp is no longer the
-- register's is never read again and is removed when a newer one is complete.
-- docs/architecture.md, "The violator list", says what the stamp covers.
CREATE TABLE violator_lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    levy_year  INTEGER NOT NULL,
    as_of      DATE NOT NULL,
    stamp      TEXT NOT NULL,
    complete   BOOLEAN NOT NULL,
    entries    BIGINT NOT NULL,
    built_at   TIMESTAMP NOT NULL
);
CREATE INDEX violator_lists_key ON violator_lists (levy_year, as_of, stamp);
-- `kinds` has bit i set for the i-th kind of ViolationKind::ALL (each kind is listed at
-- most once per employer); `rows_json` holds the employer's rows in that order, never a
-- certificate or ID number (the checks only count roster lines).
CREATE TABLE violator_entries (
    list_id     BIGINT NOT NULL REFERENCES violator_lists (id),
    uscc        TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region      TEXT NOT NULL,
    public_body BOOLEAN NOT NULL,
    owed_fen    BIGINT NOT NULL,
    kinds       INTEGER NOT NULL,
    n_rows      INTEGER NOT NULL,
    rows_json   TEXT NOT NULL
);
-- The list's order: amount owed, largest first, then USCC; a keyset page is one range
-- of this index, and the filters on amount use it as well. The columns the other
-- filters read are in it too, so that counting the employers a filter passes reads the
-- index alone (SQLite reads an index alone only when it has every column named).
CREATE INDEX violator_entries_order ON violator_entries (
    list_id, owed_fen DESC, uscc, region, public_body, kinds, n_rows
);
