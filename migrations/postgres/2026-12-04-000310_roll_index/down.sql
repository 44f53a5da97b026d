DROP INDEX assessments_roll;
