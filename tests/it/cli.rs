//! The binary itself: help, configuration errors, migrate.

use std::process::Command;

/// The binary on no database: these tests set their own.
fn bin() -> Command {
    crate::helpers::bin(None)
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

/// `quota-levy … | head`: the reader closes the pipe before the command has written;
/// the command ends quietly with status 0 instead of panicking.
#[test]
fn a_closed_standard_output_ends_commands_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("req.json");
    std::fs::write(
        &req,
        r#"{"region": "411200", "levy_year": 2025, "employer": {"kind": "enterprise"},
            "staff": {"average_headcount": "100"}, "average_wage": "70000", "disabled_count": "1"}"#,
    )
    .unwrap();
    let req = req.to_string_lossy().into_owned();
    for args in [
        vec!["calc", req.as_str()],
        vec!["policy", "show", "411200"],
        vec!["policy", "show", "411200", "--json"],
    ] {
        let mut child = bin()
            .current_dir(dir.path())
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the command can have written anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
