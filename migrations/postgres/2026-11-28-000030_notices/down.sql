DROP TRIGGER notices_never_changed ON notices;
DROP FUNCTION notices_immutable();
DROP TABLE notices;
