//! Tests of accounts: passwords, users, sign-in and its throttle, sessions, activation
//! and the reset of a password by a code.

use chrono::Duration;

use crate::auth::Role;
use crate::config::AccountSettings;
use crate::db::accounts as repo;
use crate::db::AnyConnection;
use crate::mail::template::Templates;
use crate::secret::ServerSecret;

use super::*;
use crate::db::test_support::{employer, temp_db};

/// The form of a one-time code's page.
fn chosen<'a>(code: &'a str, password: &'a str, confirm: &'a str) -> Chosen<'a> {
    Chosen {
        code,
        password,
        confirm,
    }
}

fn settings() -> AccountSettings {
    crate::config::Settings::load_from(None, Vec::new())
        .expect("defaults")
        .accounts
}

#[test]
fn hashes_are_argon2id_with_the_owasp_parameters_and_salted() {
    let a = hash_password("correct horse battery").unwrap();
    let b = hash_password("correct horse battery").unwrap();
    assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
    assert_ne!(a, b, "a fresh salt each time");
    assert!(verify_password(&a, "correct horse battery"));
    assert!(!verify_password(&a, "correct horse battery "));
    assert!(!verify_password("not a hash", "x"));
}

#[test]
fn passwords_and_usernames_are_checked() {
    assert_eq!(
        check_password("password", "short", "u", 12)
            .unwrap_err()
            .code,
        "too_short"
    );
    assert_eq!(
        check_password("password", "Admin.User.01", "admin.user.01", 12)
            .unwrap_err()
            .code,
        "is_username"
    );
    assert!(check_password("password", "a\u{7}bcdefghijkl", "u", 12).is_err());
    assert!(check_password("password", "一二三四五六七八九十壹贰", "u", 12).is_ok());
    assert!(check_username("ab").is_err());
    assert!(check_username("tax.officer@411200").is_ok());
    assert!(check_username("bad name").is_err());
}

#[test]
fn five_failures_lock_the_username_and_the_address_and_a_restart_forgets_nothing() {
    let (_dir, db) = temp_db();
    let s = settings();
    let secret = ServerSecret::from_bytes([3; 32]);
    let mut c = db.conn().unwrap();
    let account = NewAccount {
        username: "officer1".into(),
        display_name: None,
        role: Role::Tax,
        employer: None,
        region: Some("411200".into()),
    };
    create_user(&mut c, &account, "a long passphrase", &s, "test").unwrap();
    for _ in 0..4 {
        let r = sign_in(&mut c, &secret, &s, "officer1", "wrong", "10.0.0.1", None).unwrap();
        assert!(matches!(r, SignIn::Failed), "{r:?}");
    }
    let r = sign_in(&mut c, &secret, &s, "OFFICER1", "wrong", "10.0.0.1", None).unwrap();
    let SignIn::Locked { retry_after_secs } = r else {
        panic!("the fifth failure locks: {r:?}");
    };
    assert!(
        (14 * 60..=15 * 60).contains(&retry_after_secs),
        "{retry_after_secs}"
    );
    drop(c);
    // Another connection (a restarted process) sees the lockout; the right password
    // does not lift it, from this address or another.
    let mut c = db.conn().unwrap();
    let r = sign_in(
        &mut c,
        &secret,
        &s,
        "officer1",
        "a long passphrase",
        "10.0.0.2",
        None,
    );
    assert!(matches!(r.unwrap(), SignIn::Locked { .. }));
    // The address is locked too, for any username.
    let r = sign_in(&mut c, &secret, &s, "someone", "x", "10.0.0.1", None).unwrap();
    assert!(matches!(r, SignIn::Locked { .. }));
    let audit = crate::db::audit::for_entity(&mut c, "user", "officer1").unwrap();
    assert!(audit.iter().any(|a| a.action == "session.sign_in_failed"));
    for a in &audit {
        let text = format!("{:?}{:?}", a.before_json, a.after_json);
        assert!(
            !text.contains("passphrase") && !text.contains("argon2"),
            "{text}"
        );
    }
}

#[test]
fn failures_spread_wider_than_the_window_never_lock() {
    let (_dir, db) = temp_db();
    let mut c = db.conn().unwrap();
    let window = Duration::minutes(15);
    let t0 = chrono::Utc::now().naive_utc();
    for i in 0..10 {
        let at = t0 + Duration::minutes(16 * i);
        let locked = repo::record_failure(&mut c, repo::BY_USERNAME, "k", at, window, 5);
        assert_eq!(locked.unwrap(), None, "failure {i}");
    }
    let mut until = None;
    for i in 0..5 {
        until = repo::record_failure(
            &mut c,
            repo::BY_USERNAME,
            "k",
            t0 + Duration::minutes(200 + i),
            window,
            5,
        )
        .unwrap();
    }
    let until = until.expect("five within the window lock");
    assert_eq!(until, t0 + Duration::minutes(204) + window);
    let probe = t0 + Duration::minutes(210);
    assert_eq!(
        repo::locked_until(&mut c, repo::BY_USERNAME, "k", probe).unwrap(),
        Some(until)
    );
    assert_eq!(
        repo::locked_until(&mut c, repo::BY_USERNAME, "k", until).unwrap(),
        None
    );
}

#[test]
fn sessions_end_when_idle_past_their_end_or_when_the_user_is_disabled() {
    let (_dir, db) = temp_db();
    let s = settings();
    let secret = ServerSecret::from_bytes([4; 32]);
    let mut c = db.conn().unwrap();
    let account = NewAccount {
        username: "fed1".into(),
        display_name: Some("残联 一".into()),
        role: Role::Federation,
        employer: None,
        region: None,
    };
    create_user(&mut c, &account, "another passphrase", &s, "test").unwrap();
    let SignIn::Ok(new) = sign_in(
        &mut c,
        &secret,
        &s,
        "fed1",
        "another passphrase",
        "::1",
        None,
    )
    .unwrap() else {
        panic!("signs in");
    };
    let now = chrono::Utc::now().naive_utc();
    let live = session(&mut c, &s, &new.token, now).unwrap().expect("live");
    assert_eq!(live.principal.role, Role::Federation);
    assert!(live.principal.actor().starts_with("user:"));
    // 31 minutes without a request: idle.
    let later = now + Duration::minutes(31);
    assert!(session(&mut c, &s, &new.token, later).unwrap().is_none());
    // And it is gone for good, even presented in time again.
    assert!(session(&mut c, &s, &new.token, now).unwrap().is_none());

    let SignIn::Ok(new) = sign_in(
        &mut c,
        &secret,
        &s,
        "fed1",
        "another passphrase",
        "::1",
        None,
    )
    .unwrap() else {
        panic!("signs in");
    };
    let mut t = now;
    for _ in 0..26 {
        t += Duration::minutes(29);
        if t > now + Duration::hours(12) {
            break;
        }
        assert!(session(&mut c, &s, &new.token, t).unwrap().is_some(), "{t}");
    }
    assert!(
        session(&mut c, &s, &new.token, now + Duration::minutes(12 * 60 + 1))
            .unwrap()
            .is_none()
    );

    let SignIn::Ok(new) = sign_in(
        &mut c,
        &secret,
        &s,
        "fed1",
        "another passphrase",
        "::1",
        None,
    )
    .unwrap() else {
        panic!("signs in");
    };
    assert_eq!(disable_user(&mut c, "fed1", "test").unwrap(), 1);
    assert!(session(&mut c, &s, &new.token, now).unwrap().is_none());
    let r = sign_in(
        &mut c,
        &secret,
        &s,
        "fed1",
        "another passphrase",
        "::1",
        None,
    )
    .unwrap();
    assert!(matches!(r, SignIn::Failed));
}

#[test]
fn a_letter_code_activates_once_and_is_typed_forgivingly() {
    let (_dir, db) = temp_db();
    let s = settings();
    let mut c = db.conn().unwrap();
    let uscc = "91350100M000100Y43";
    employer(&mut c, uscc);
    let letter = activation_letter(&mut c, &s, uscc, "cli:test").unwrap();
    assert_eq!(letter.code.len(), 24);
    let text = letter.render("https://levy.example.gov.cn");
    assert!(text.contains("https://levy.example.gov.cn/activate") && text.contains(&letter.code));
    let typed = letter.code.to_lowercase().replace('-', " ");
    assert!(matches!(
        activate(&mut c, &s, chosen(&typed, "short", "short"), "::1", None),
        Err(AccountError::Invalid(_))
    ));
    let pw = "our own passphrase";
    let done = activate(&mut c, &s, chosen(&typed, pw, pw), "::1", None).unwrap();
    let Activation::Done(new) = done else {
        panic!("activates: {done:?}");
    };
    assert_eq!(new.user.username, uscc);
    assert_eq!(new.user.employer_uscc.as_deref(), Some(uscc));
    let again = activate(&mut c, &s, chosen(&letter.code, pw, pw), "::1", None).unwrap();
    assert!(
        matches!(again, Activation::Refused(CodeState::Spent)),
        "{again:?}"
    );
    assert!(matches!(
        activation_letter(&mut c, &s, uscc, "cli:test"),
        Err(AccountError::Conflict(_))
    ));
}

#[test]
fn a_reset_code_is_its_users_only_and_replaced_by_a_newer_one() {
    let (_dir, db) = temp_db();
    let s = settings();
    let mut c = db.conn().unwrap();
    let templates = Templates::embedded().unwrap();
    let account = NewAccount {
        username: "fed2".into(),
        display_name: Some("某区残联".into()),
        role: Role::Federation,
        employer: None,
        region: Some("411200".into()),
    };
    create_user(&mut c, &account, "a first passphrase", &s, "test").unwrap();
    let send = |c: &mut AnyConnection| send_reset(c, &s, &templates, "fed2", "test", None);
    let ResetSent::Letter(first) = send(&mut c).unwrap() else {
        panic!("no address: a letter");
    };
    let text = first.render("https://levy.example.gov.cn/");
    assert!(text.contains("https://levy.example.gov.cn/reset") && text.contains(&first.code));
    assert!(text.contains("fed2") && text.contains("某区残联"), "{text}");
    let ResetSent::Letter(second) = send(&mut c).unwrap() else {
        panic!("a letter");
    };
    let now = chrono::Utc::now().naive_utc();
    assert!(matches!(
        reset_state(&mut c, &first.code, now).unwrap(),
        CodeState::Spent
    ));
    // A reset code activates nothing, and an unknown one resets nothing.
    assert!(matches!(
        code_state(&mut c, &second.code, now).unwrap(),
        CodeState::Unknown
    ));
    assert!(matches!(
        reset_state(&mut c, "0000-0000-0000-0000-0000", now).unwrap(),
        CodeState::Unknown
    ));
    let pw = "a second passphrase";
    assert!(matches!(
        reset_by_code(&mut c, &s, chosen(&second.code, pw, "another one"), None),
        Err(AccountError::Invalid(_))
    ));
    let done = reset_by_code(&mut c, &s, chosen(&second.code, pw, pw), None).unwrap();
    assert!(matches!(done, Reset::Done { .. }), "{done:?}");
    let again = reset_by_code(&mut c, &s, chosen(&second.code, pw, pw), None).unwrap();
    assert!(
        matches!(again, Reset::Refused(CodeState::Spent)),
        "{again:?}"
    );
    let user = crate::db::accounts::by_username(&mut c, "fed2")
        .unwrap()
        .unwrap();
    assert!(verify_password(&user.password_hash, pw));

    // A disabled user gets no link, and its open code no longer works.
    let ResetSent::Letter(third) = send(&mut c).unwrap() else {
        panic!("a letter");
    };
    disable_user(&mut c, "fed2", "test").unwrap();
    assert!(matches!(send(&mut c), Err(AccountError::Conflict(_))));
    assert!(matches!(
        reset_state(&mut c, &third.code, now).unwrap(),
        CodeState::Spent
    ));
}

#[test]
fn a_reset_letter_names_a_user_without_a_display_name_once() {
    let letter = |name: &str| Letter {
        kind: LetterKind::Reset,
        employer_name: name.to_owned(),
        uscc: "fed-l".to_owned(),
        code: "ABCD-EFGH".to_owned(),
        expires_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .and_then(|d| d.and_hms_opt(1, 0, 0))
            .expect("a date"),
    };
    let bare = letter("fed-l").render("https://levy.example.cn/");
    assert!(bare.contains("用户 fed-l："), "{bare}");
    assert!(bare.contains("To user fed-l:"), "{bare}");
    assert_eq!(bare.matches("fed-l").count(), 2, "{bare}");
    let named = letter("王科长").render("https://levy.example.cn");
    assert!(named.contains("王科长（用户名：fed-l）："), "{named}");
    assert!(named.contains("To 王科长 (username fed-l):"), "{named}");
    assert!(named.contains("https://levy.example.cn/reset"), "{named}");
}
