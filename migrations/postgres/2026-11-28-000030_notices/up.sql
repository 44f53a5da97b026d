-- Public compliance notices (公示). A notice is a frozen snapshot: content_json holds
-- the canonical JSON of everything it publishes and content_sha256 its digest. A
-- published notice is never edited: a correction is a new row whose replaces_id names
-- the old one (at most one correction each, so the chain has no forks), and "superseded"
-- is read from that link, never written into the old row. The trigger makes the rule
-- hold for any client, not only this service.
CREATE TABLE notices (
    id              BIGSERIAL PRIMARY KEY,
    region          TEXT NOT NULL,
    levy_year       INTEGER NOT NULL,
    published_on    DATE NOT NULL,
    objection_until DATE NOT NULL,
    replaces_id     BIGINT UNIQUE REFERENCES notices (id),
    entries         INTEGER NOT NULL,
    content_json    TEXT NOT NULL,
    content_sha256  TEXT NOT NULL,
    published_by    TEXT NOT NULL,
    published_at    TIMESTAMP NOT NULL
);
CREATE INDEX notices_region_year ON notices (region, levy_year);

CREATE FUNCTION notices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published notice is never edited or deleted; publish a correction';
END;
$$;

CREATE TRIGGER notices_never_changed BEFORE UPDATE OR DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION notices_immutable();
