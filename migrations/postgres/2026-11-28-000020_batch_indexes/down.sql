DROP INDEX roster_lines_employer;
