DROP TABLE hardship_decisions;
