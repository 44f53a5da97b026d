-- The server secret (src/secret.rs): one row, made at first start when
-- security.secret_file is not set. It keys the audit log's digests of ID and
-- certificate numbers. Hex text, since BLOB and BYTEA are not one diesel type.
CREATE TABLE server_secrets (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret_hex TEXT NOT NULL CHECK (length(secret_hex) = 64),
    created_at TIMESTAMP NOT NULL
);
