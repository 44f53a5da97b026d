//! Fixtures of the database layer's own unit tests: a migrated SQLite file, an employer.

use chrono::Utc;

use super::employers::{insert, NewEmployer};
use super::{AnyConnection, DatabaseUrl, Db};

/// A fresh, migrated SQLite database in a temporary folder (kept while the folder is).
pub fn temp_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = crate::config::Settings::load_from(None, Vec::new())
        .expect("default settings")
        .database;
    let db = Db::new(DatabaseUrl::Sqlite(dir.path().join("t.db")), &settings).expect("pool");
    db.migrate().expect("migrate");
    (dir, db)
}

/// Registers an enterprise in 411200 with a contact address; returns its row id.
pub fn employer(conn: &mut AnyConnection, uscc: &str) -> i64 {
    let now = Utc::now().naive_utc();
    insert(
        conn,
        &NewEmployer {
            uscc: uscc.into(),
            name: "测试单位".into(),
            kind: "enterprise".into(),
            region: "411200".into(),
            registered_on: None,
            contact_email: Some("hr@example.org".into()),
            establishment_size: None,
            committee_member: false,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("insert employer")
    .expect("new employer")
    .id
}
