-- Batch assessment looks up the roster lines of a chunk of employers (to find lines
-- claimed by another employer too); without this index each chunk scanned every line
-- of the year.
CREATE INDEX roster_lines_employer ON roster_lines (levy_year, employer_id);
