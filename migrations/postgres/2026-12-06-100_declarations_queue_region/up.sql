-- The certification queue is ordered by the employer's region, then submission time
-- and id. With the region on employers only, no index serves that order: a page joined
-- every employer of the counties it reached and sorted their declarations (BENCHMARKS.md
-- "Lists"). The declaration carries its employer's region, kept by the triggers below
-- on every write path (the service's saves, bulk saves, demonstration data, an
-- employer moved to another county), so that one index range is a page.
ALTER TABLE declarations ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE declarations d SET region = e.region FROM employers e WHERE e.id = d.employer_id;

-- levy_year and status by equality, then the queue's order and keyset.
CREATE INDEX declarations_queue_order
    ON declarations (levy_year, status, region, submitted_at, id);

CREATE FUNCTION declarations_region_of_employer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.region INTO NEW.region FROM employers e WHERE e.id = NEW.employer_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER declarations_region_on_insert BEFORE INSERT ON declarations
    FOR EACH ROW EXECUTE FUNCTION declarations_region_of_employer();

CREATE FUNCTION declarations_region_follow_employer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE declarations SET region = NEW.region WHERE employer_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER declarations_region_follows_employer AFTER UPDATE OF region ON employers
    FOR EACH ROW WHEN (NEW.region IS DISTINCT FROM OLD.region)
    EXECUTE FUNCTION declarations_region_follow_employer();
