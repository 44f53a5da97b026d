-- Every write is audited: who, when, what changed (docs/architecture.md, Conventions: "Every write").
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    request_id  TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
