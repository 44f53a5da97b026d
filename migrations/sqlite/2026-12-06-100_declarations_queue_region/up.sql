-- The certification queue is ordered by the employer's region, then submission time
-- and id. With the region on employers only, no index serves that order: a page joined
-- every employer of the counties it reached and sorted their declarations (216 ms p99
-- at 200,000 employers, BENCHMARKS.md "Lists"). The declaration carries its employer's
-- region, kept by the triggers below on every write path (the service's saves, bulk
-- saves, demonstration data, an employer moved to another county), so that one index
-- range is a page.
ALTER TABLE declarations ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE declarations
   SET region = (SELECT e.region FROM employers e WHERE e.id = declarations.employer_id);

-- levy_year and status by equality, then the queue's order; the rowid (id) ends every
-- SQLite index, so the keyset (region, submitted_at, id) is one seek.
CREATE INDEX declarations_queue_order ON declarations (levy_year, status, region, submitted_at);

-- SQLite's BEFORE triggers cannot set NEW: the row is completed after the insert.
CREATE TRIGGER declarations_region_on_insert AFTER INSERT ON declarations
WHEN NEW.region = ''
BEGIN
    UPDATE declarations
       SET region = (SELECT e.region FROM employers e WHERE e.id = NEW.employer_id)
     WHERE id = NEW.id;
END;

CREATE TRIGGER declarations_region_follows_employer AFTER UPDATE OF region ON employers
WHEN NEW.region IS NOT OLD.region
BEGIN
    UPDATE declarations SET region = NEW.region WHERE employer_id = NEW.id;
END;
