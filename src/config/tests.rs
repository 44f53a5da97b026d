//! Tests of configuration: defaults, file and environment layers, and every refusal naming its key.

use super::*;
use crate::domain::RegionCode;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_load() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert_eq!(s.server.port, 8080);
    assert_eq!(s.database.url, "sqlite://data/quota-levy.db");
    assert_eq!(s.log.format, LogFormat::Text);
    assert!(s.policy_dir().is_none());
}

#[test]
fn sqlite_tuning_defaults_overrides_and_refusals() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert_eq!(s.database.sqlite_cache_kib, 16_384);
    assert_eq!(s.database.sqlite_mmap_mib, 0);
    assert_eq!(s.database.sqlite_temp_store, SqliteTempStore::Memory);

    let s = Settings::load_from(
        None,
        env(&[
            ("QUOTA_LEVY__DATABASE__SQLITE_CACHE_KIB", "2048"),
            ("QUOTA_LEVY__DATABASE__SQLITE_MMAP_MIB", "256"),
            ("QUOTA_LEVY__DATABASE__SQLITE_TEMP_STORE", "file"),
        ]),
    )
    .unwrap();
    assert_eq!(s.database.sqlite_cache_kib, 2048);
    assert_eq!(s.database.sqlite_mmap_mib, 256);
    assert_eq!(s.database.sqlite_temp_store, SqliteTempStore::File);

    for (var, value, key) in [
        (
            "QUOTA_LEVY__DATABASE__SQLITE_CACHE_KIB",
            "63",
            "database.sqlite_cache_kib",
        ),
        (
            "QUOTA_LEVY__DATABASE__SQLITE_CACHE_KIB",
            "1048577",
            "database.sqlite_cache_kib",
        ),
        (
            "QUOTA_LEVY__DATABASE__SQLITE_CACHE_KIB",
            "-1",
            "database.sqlite_cache_kib",
        ),
        (
            "QUOTA_LEVY__DATABASE__SQLITE_MMAP_MIB",
            "65537",
            "database.sqlite_mmap_mib",
        ),
        (
            "QUOTA_LEVY__DATABASE__SQLITE_TEMP_STORE",
            "disk",
            "database.sqlite_temp_store",
        ),
    ] {
        let e = Settings::load_from(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains(var), "{var}={value}: {e}");
    }
}

#[test]
fn environment_overrides_with_types() {
    let s = Settings::load_from(
        None,
        env(&[
            ("QUOTA_LEVY__SERVER__PORT", "9000"),
            ("QUOTA_LEVY__DATABASE__URL", "postgres://u@localhost/x"),
            ("QUOTA_LEVY__LOG__FORMAT", "json"),
            ("QUOTA_LEVY__DATABASE__MIGRATE_ON_START", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(s.server.port, 9000);
    assert_eq!(s.database.url, "postgres://u@localhost/x");
    assert_eq!(s.log.format, LogFormat::Json);
    assert!(!s.database.migrate_on_start);
}

#[test]
fn bad_values_name_the_key_and_origin() {
    let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PORT", "eighty")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("server.port") && e.contains("QUOTA_LEVY__SERVER__PORT"),
        "{e}"
    );

    let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PORT", "70000")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.port"), "{e}");

    let e = Settings::load_from(None, env(&[("QUOTA_LEVY__LOG__FORMAT", "xml")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("log.format"), "{e}");

    let e = Settings::load_from(None, env(&[("QUOTA_LEVY__DATABASE__URL", "mysql://x")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("database.url"), "{e}");

    let e = Settings::load_from(
        None,
        env(&[("QUOTA_LEVY__SERVER__UPLOAD_LIMIT_BYTES", "1024")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("server.upload_limit_bytes"), "{e}");

    let e = Settings::load_from(
        None,
        env(&[("QUOTA_LEVY__MAIL__SMTP_CA_FILE", "/nonexistent/ca.pem")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("mail.smtp_ca_file"), "{e}");
    let not_pem = std::env::temp_dir().join(format!("ql-not-pem-{}", std::process::id()));
    std::fs::write(&not_pem, "hello").unwrap();
    let e = Settings::load_from(
        None,
        env(&[("QUOTA_LEVY__MAIL__SMTP_CA_FILE", &not_pem.to_string_lossy())]),
    )
    .unwrap_err()
    .to_string();
    let _ = std::fs::remove_file(&not_pem);
    assert!(
        e.contains("mail.smtp_ca_file") && e.contains("no PEM"),
        "{e}"
    );

    let e = Settings::load_from(None, env(&[("QUOTA_LEVY__SERVER__PROT", "1")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.prot") && e.contains("unknown"), "{e}");
}

#[test]
fn mail_settings_load_and_validate_naming_keys() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert!(!s.mail.enabled);
    assert_eq!(s.mail.smtp_tls, SmtpTls::Starttls);
    assert_eq!(s.mail.declare_days_before, vec![30, 7]);
    assert_eq!(s.mail.declare_overdue_days_after, vec![1, 15, 30]);
    let s = Settings::load_from(
        None,
        env(&[
            ("QUOTA_LEVY__MAIL__SMTP_TLS", "none"),
            ("QUOTA_LEVY__MAIL__DECLARE_DAYS_BEFORE", "14, 3"),
            ("QUOTA_LEVY__MAIL__OVERDUE_DAYS_AFTER", ""),
            ("QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER", "3,10"),
            ("QUOTA_LEVY__MAIL__SMTP_PASSWORD", "secret"),
            ("QUOTA_LEVY__MAIL__SMTP_USERNAME", "me"),
        ]),
    )
    .unwrap();
    assert_eq!(s.mail.smtp_tls, SmtpTls::None);
    assert_eq!(s.mail.declare_days_before, vec![14, 3]);
    assert!(s.mail.overdue_days_after.is_empty());
    assert_eq!(s.mail.declare_overdue_days_after, vec![3, 10]);
    assert!(!format!("{:?}", s.mail).contains("secret"));
    for (var, value, key) in [
        ("QUOTA_LEVY__MAIL__SMTP_TLS", "ssl", "mail.smtp_tls"),
        (
            "QUOTA_LEVY__MAIL__FROM_ADDRESS",
            "not an address",
            "mail.from_address",
        ),
        ("QUOTA_LEVY__MAIL__SMTP_PASSWORD", "x", "mail.smtp_username"),
        ("QUOTA_LEVY__MAIL__LEASE_SECS", "10", "mail.lease_secs"),
        (
            "QUOTA_LEVY__MAIL__BACKOFF_BASE_SECS",
            "0",
            "mail.backoff_base_secs",
        ),
        (
            "QUOTA_LEVY__MAIL__PAY_DAYS_BEFORE",
            "30,x",
            "mail.pay_days_before",
        ),
        (
            "QUOTA_LEVY__MAIL__OVERDUE_DAYS_AFTER",
            "0",
            "mail.overdue_days_after",
        ),
        (
            "QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER",
            "1,0",
            "mail.declare_overdue_days_after",
        ),
        (
            "QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER",
            "400",
            "mail.declare_overdue_days_after",
        ),
    ] {
        let e = Settings::load_from(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(key), "{var}={value}: {e}");
    }
}

fn payment_env(region: &str, skip: &str) -> Vec<(String, String)> {
    [
        ("PAYEE", "国家税务总局测试市税务局"),
        ("BANK", "测试银行测试支行"),
        ("ACCOUNT", "1234 5678 9012 3456"),
        ("ETAX_URL", "https://etax.example.org/"),
        ("TAX_OFFICE", "国家税务总局测试市税务局"),
        ("TAX_OFFICE_ADDRESS", "测试市测试路1号"),
        ("TAX_OFFICE_PHONE", "0398-1234567"),
    ]
    .into_iter()
    .filter(|(k, _)| *k != skip)
    .map(|(k, v)| {
        (
            format!("QUOTA_LEVY__MAIL__PAYMENT__{region}__{k}"),
            v.to_owned(),
        )
    })
    .collect()
}

#[test]
fn payment_instructions_are_keyed_by_region_and_resolved_up_the_chain() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert!(s.mail.payment.0.is_empty(), "nothing invented by default");
    assert_eq!(s.mail.payment.for_region("411200"), None);

    let mut vars = payment_env("411200", "");
    vars.extend(payment_env("410000", ""));
    vars.push((
        "QUOTA_LEVY__MAIL__PAYMENT__410000__PAYEE".into(),
        "国家税务总局测试省税务局".into(),
    ));
    let s = Settings::load_from(None, vars).unwrap();
    assert_eq!(s.mail.payment.0.len(), 2);
    let city = s.mail.payment.for_region("411200").unwrap();
    assert_eq!(city.account, "1234 5678 9012 3456");
    assert_eq!(city.payee, "国家税务总局测试市税务局");
    // A county of the city: the city's entry.
    assert_eq!(s.mail.payment.for_region("411202"), Some(city));
    // Another city of the province: the province's.
    let province = s.mail.payment.for_region("411300").unwrap();
    assert_eq!(province.payee, "国家税务总局测试省税务局");
    // Another province: none, and no national fallback.
    assert_eq!(s.mail.payment.for_region("110000"), None);
    assert_eq!(s.mail.payment.for_region("not a code"), None);

    // From a file, the same; a county's own entry wins over its city's.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pay.toml");
    std::fs::write(
        &file,
        "[mail.payment.411202]\npayee = \"湖滨区\"\nbank = \"b\"\naccount = \"1\"\n\
         etax_url = \"https://e.example.org\"\ntax_office = \"t\"\n\
         tax_office_address = \"a\"\ntax_office_phone = \"1\"\n",
    )
    .unwrap();
    let s = Settings::load_from(Some(&file), payment_env("411200", "")).unwrap();
    assert_eq!(s.mail.payment.for_region("411202").unwrap().payee, "湖滨区");
    assert_eq!(
        s.mail.payment.for_region("411203").unwrap().payee,
        "国家税务总局测试市税务局"
    );
}

#[test]
fn payment_instructions_refuse_unknown_missing_and_malformed_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[mail.payment.411200]\nbankk = \"x\"\n").unwrap();
    let e = Settings::load_from(Some(&file), payment_env("411200", ""))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mail.payment.411200") && e.contains("bankk") && e.contains("typo.toml"),
        "{e}"
    );
    let mut typo = payment_env("411200", "");
    typo.push((
        "QUOTA_LEVY__MAIL__PAYMENT__411200__BANKK".into(),
        "x".into(),
    ));
    let e = Settings::load_from(None, typo).unwrap_err().to_string();
    assert!(
        e.contains("mail.payment.411200") && e.contains("bankk"),
        "{e}"
    );
    let e = Settings::load_from(None, payment_env("411200", "ACCOUNT"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mail.payment.411200") && e.contains("account"),
        "{e}"
    );

    for (field, value, key) in [
        (
            "ETAX_URL",
            "etax.example.org",
            "mail.payment.411200.etax_url",
        ),
        ("ACCOUNT", "see the notice", "mail.payment.411200.account"),
        (
            "TAX_OFFICE_PHONE",
            "call us",
            "mail.payment.411200.tax_office_phone",
        ),
        ("PAYEE", "  ", "mail.payment.411200.payee"),
        ("BANK", "a\nb", "mail.payment.411200.bank"),
    ] {
        let mut vars = payment_env("411200", field);
        let var = format!("QUOTA_LEVY__MAIL__PAYMENT__411200__{field}");
        vars.push((var.clone(), value.into()));
        let e = Settings::load_from(None, vars).unwrap_err().to_string();
        assert!(
            e.contains(key) && e.contains(&var),
            "{field}={value:?}: {e}"
        );
    }
    for region in ["000000", "4112", "41120a"] {
        let e = Settings::load_from(None, payment_env(region, ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("mail.payment.{}", region.to_ascii_lowercase()))
                && e.contains("region code"),
            "{region}: {e}"
        );
    }
    let e = Settings::load_from(None, env(&[("QUOTA_LEVY__MAIL__PAYMENT__411200", "x")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("mail.payment.411200"), "{e}");
}

#[test]
fn import_bounds_load_and_validate_naming_keys() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert_eq!(s.import.max_uncompressed_bytes, 200 << 20);
    assert_eq!(s.import.max_rows, 200_000);
    let s = Settings::load_from(
        None,
        env(&[
            ("QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES", "1048576"),
            ("QUOTA_LEVY__IMPORT__MAX_ROWS", "1"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (s.import.max_uncompressed_bytes, s.import.max_rows),
        (1 << 20, 1)
    );
    for (var, value, key) in [
        (
            "QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES",
            "1048575",
            "import.max_uncompressed_bytes",
        ),
        (
            "QUOTA_LEVY__IMPORT__MAX_UNCOMPRESSED_BYTES",
            "-1",
            "import.max_uncompressed_bytes",
        ),
        ("QUOTA_LEVY__IMPORT__MAX_ROWS", "0", "import.max_rows"),
        (
            "QUOTA_LEVY__IMPORT__MAX_ROWS",
            "100000001",
            "import.max_rows",
        ),
        ("QUOTA_LEVY__IMPORT__MAX_ROWS", "many", "import.max_rows"),
    ] {
        let e = Settings::load_from(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains(var), "{var}={value}: {e}");
    }
}

#[test]
fn public_base_url_takes_the_old_key_with_a_warning() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert_eq!(s.server.public_base_url, "http://127.0.0.1:8080");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let s = Settings::load_from(
        None,
        env(&[(
            "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
            " https://levy.example.gov.cn/ ",
        )]),
    )
    .unwrap();
    assert_eq!(s.server.public_base_url, "https://levy.example.gov.cn");
    assert!(s.warnings.is_empty());

    // Only the old key: it is used, and the warning names both keys.
    let s = Settings::load_from(
        None,
        env(&[(
            "QUOTA_LEVY__MAIL__PUBLIC_BASE_URL",
            "https://old.example.org/",
        )]),
    )
    .unwrap();
    assert_eq!(s.server.public_base_url, "https://old.example.org");
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0].contains("mail.public_base_url")
            && s.warnings[0].contains("server.public_base_url"),
        "{:?}",
        s.warnings
    );

    // Both: the new key wins, and the old one is said to be ignored.
    let s = Settings::load_from(
        None,
        env(&[
            (
                "QUOTA_LEVY__MAIL__PUBLIC_BASE_URL",
                "https://old.example.org",
            ),
            (
                "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
                "https://new.example.org",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(s.server.public_base_url, "https://new.example.org");
    assert!(s.warnings[0].contains("ignored"), "{:?}", s.warnings);

    for (var, value, key) in [
        (
            "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
            "levy.example.org",
            "server.public_base_url",
        ),
        (
            "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
            "https://levy.example.org/?a=1",
            "server.public_base_url",
        ),
        (
            "QUOTA_LEVY__SERVER__PUBLIC_BASE_URL",
            "https:///x",
            "server.public_base_url",
        ),
        (
            "QUOTA_LEVY__MAIL__PUBLIC_BASE_URL",
            "ftp://x",
            "mail.public_base_url",
        ),
    ] {
        let e = Settings::load_from(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains(var), "{var}={value}: {e}");
    }
}

#[test]
fn notice_issuers_come_from_file_and_environment_and_resolve_up_the_chain() {
    let s = Settings::load_from(None, env(&[])).unwrap();
    assert!(s.notices.issuer.is_empty(), "shipped without any contact");
    let code = |c: &str| c.parse::<RegionCode>().unwrap();
    assert!(s.notices.issuer_for(code("411202")).is_none());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("issuers.toml");
    std::fs::write(
        &file,
        "[notices.issuer.\"411200\"]\nname = \"示例市残疾人联合会\"\n\
         objection_phone = \"0000-0000000\"\n\
         [notices.issuer.\"410000\"]\nname = \"示例省残疾人联合会\"\n",
    )
    .unwrap();
    let s = Settings::load_from(
        Some(&file),
        env(&[
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_EMAIL",
                "objections@example.org",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411221__NAME",
                "示例县残疾人联合会",
            ),
        ]),
    )
    .unwrap();
    let city = &s.notices.issuer["411200"];
    assert_eq!(city.name, "示例市残疾人联合会");
    assert_eq!(city.objection_phone, "0000-0000000");
    assert_eq!(city.objection_email, "objections@example.org");
    assert!(city.objection_address.is_empty());
    let (from, i) = s.notices.issuer_for(code("411221")).unwrap();
    assert_eq!(
        (from.as_str(), i.name.as_str()),
        ("411221", "示例县残疾人联合会")
    );
    let (from, _) = s.notices.issuer_for(code("411202")).unwrap();
    assert_eq!(
        from.as_str(),
        "411200",
        "a county without an entry takes its city's"
    );
    let (from, _) = s.notices.issuer_for(code("410300")).unwrap();
    assert_eq!(from.as_str(), "410000", "then its province's");
    assert!(s.notices.issuer_for(code("420000")).is_none());

    let bad = |pairs: &[(&str, &str)]| {
        Settings::load_from(None, env(pairs))
            .unwrap_err()
            .to_string()
    };
    for (var, value, key) in [
        (
            "QUOTA_LEVY__NOTICES__ISSUER__4112__NAME",
            "x",
            "notices.issuer.4112",
        ),
        (
            "QUOTA_LEVY__NOTICES__ISSUER__411200__NAME",
            " ",
            "notices.issuer.411200.name",
        ),
        (
            "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_PHONE",
            "call us",
            "notices.issuer.411200.objection_phone",
        ),
        (
            "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_EMAIL",
            "nobody",
            "notices.issuer.411200.objection_email",
        ),
        (
            "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_ADDRESS",
            "a\u{202e}b",
            "notices.issuer.411200.objection_address",
        ),
        (
            "QUOTA_LEVY__NOTICES__ISSUER__411200",
            "x",
            "notices.issuer.411200",
        ),
    ] {
        let mut pairs = vec![(var, value)];
        if var.contains("__OBJECTION_") {
            pairs.push(("QUOTA_LEVY__NOTICES__ISSUER__411200__NAME", "示例"));
        }
        let e = bad(&pairs);
        assert!(e.contains(key), "{var}={value}: {e}");
        assert!(e.contains(var), "names where it came from: {e}");
    }
    // No name: an entry is a body, and a body has a name.
    let e = bad(&[(
        "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_PHONE",
        "0000-0000000",
    )]);
    assert!(
        e.contains("notices.issuer.411200") && e.contains("name"),
        "{e}"
    );
    // A field that does not exist, from the file or the environment.
    let e = bad(&[
        ("QUOTA_LEVY__NOTICES__ISSUER__411200__NAME", "示例"),
        ("QUOTA_LEVY__NOTICES__ISSUER__411200__PHONE", "0000-0000000"),
    ]);
    assert!(e.contains("phone") && e.contains("unknown"), "{e}");
    let typo = dir.path().join("typo.toml");
    std::fs::write(
        &typo,
        "[notices.issuer.\"411200\"]\nname = \"示例\"\nobjection_mail = \"a@b.org\"\n",
    )
    .unwrap();
    let e = Settings::load_from(Some(&typo), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("objection_mail") && e.contains("typo.toml"),
        "{e}"
    );
    let e = bad(&[("QUOTA_LEVY__NOTICES__ISSUERS__411200__NAME", "示例")]);
    assert!(
        e.contains("notices.issuers") && e.contains("unknown"),
        "{e}"
    );
}

#[test]
fn file_overlay_rejects_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[server]\nport = 9100\n").unwrap();
    let s = Settings::load_from(Some(&good), env(&[])).unwrap();
    assert_eq!(s.server.port, 9100);
    assert_eq!(s.server.host, "127.0.0.1");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[database]\nurll = \"x\"\n").unwrap();
    let e = Settings::load_from(Some(&bad), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("database.urll") && e.contains("bad.toml"), "{e}");

    let typed = dir.path().join("typed.toml");
    std::fs::write(&typed, "[database]\npool_size = \"many\"\n").unwrap();
    let e = Settings::load_from(Some(&typed), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("database.pool_size") && e.contains("typed.toml"),
        "{e}"
    );
}
