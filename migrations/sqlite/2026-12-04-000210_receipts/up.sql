-- Signed computation receipts: one per stored assessment, issued at first request and
-- kept as issued, so that the verification address of a printed receipt answers the
-- same document for as long as the deployment lives.
CREATE TABLE receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id BIGINT NOT NULL UNIQUE REFERENCES assessments(id),
    digest TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    document_json TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL
);
