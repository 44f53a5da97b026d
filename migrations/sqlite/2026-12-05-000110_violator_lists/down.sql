DROP TABLE violator_entries;
DROP TABLE violator_lists;
