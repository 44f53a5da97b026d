//! The binary itself: help, configuration errors, migrate.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quota-levy"));
    // The developer's own overrides must not leak into these tests.
    for (k, _) in std::env::vars() {
        if k.starts_with("QUOTA_LEVY__") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "serve",
        "migrate",
        "calc",
        "policy",
        "token",
        "assess",
        "import",
        "reminders",
        "notices",
        "levy-roll",
    ] {
        let out = bin().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub} --help failed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{sub}: {text}");
    }
}

#[test]
fn malformed_setting_exits_non_zero_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("migrate")
        .env("QUOTA_LEVY__DATABASE__POOL_SIZE", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("database.pool_size"), "{err}");
    assert!(err.contains("QUOTA_LEVY__DATABASE__POOL_SIZE"), "{err}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing may be created on a bad setting"
    );

    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[server]\nport = \"eighty\"\n").unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["--config", "bad.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.port") && err.contains("bad.toml"),
        "{err}"
    );
}

#[test]
fn migrate_creates_the_default_sqlite_database_in_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("data/quota-levy.db").exists());
    let again = bin()
        .current_dir(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
}
