DROP TRIGGER notices_never_deleted;
DROP TRIGGER notices_never_updated;
DROP TABLE notices;
