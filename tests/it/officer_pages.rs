//! The inspectors' and the administration's pages, through their forms as a browser
//! sends them: who may open them, the violator list's walls and filters, forged forms,
//! a token shown once, disabling a user, the audit log's filters (and no certificate
//! number in it), the policy comparison, and an employer invited by mail.

use crate::helpers::smtp::text_part;
use crate::helpers::web::{client, person, sign_in, WebSession};
use crate::helpers::{
    assessed_10000, declaration_body, spawn_app, spawn_app_with_smtp, uscc_with_check, TestApp,
    CERT_A, USCC_A,
};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::json;

const LIST: &str = "/inspector?levy_year=2025&as_of=2026-01-30";

async fn html(s: &WebSession, path: &str) -> (u16, String) {
    let r = s.get(path).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// An employer registered in Zhengzhou (outside Sanmenxia) that never declared.
async fn zhengzhou_employer(app: &TestApp) -> String {
    let admin = app.token(Role::Admin, None, None).await;
    let uscc = uscc_with_check("91410100MA0000077");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc, "name": "郑州未申报公司", "kind": "enterprise",
                        "region": "410102"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    uscc
}

#[tokio::test]
async fn each_role_opens_its_own_pages_and_no_other() {
    let (app, _, _) = assessed_10000().await;
    person(&app, "insp", Role::Inspector, None, Some("411200")).await;
    person(&app, "root", Role::Admin, None, None).await;
    person(&app, "fed", Role::Federation, None, None).await;
    person(&app, "tax", Role::Tax, None, None).await;
    person(&app, "emp", Role::Employer, Some(USCC_A), None).await;

    // Not signed in: the sign-in page, coming back here.
    let r = client().get(app.url("/inspector")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Finspector");

    let insp = sign_in(&app, "insp").await;
    let (status, page) = html(&insp, "/inspector").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("违规单位名单"), "Chinese by default");
    let (_, en) = html(&insp, "/inspector?lang=en").await;
    assert!(en.contains("Violator list") && en.contains("<html lang=\"en\">"));
    // Read-only: no form but the GET of the filters.
    assert!(
        !page.to_ascii_lowercase().contains("method=\"post\""),
        "{page}"
    );

    let root = sign_in(&app, "root").await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/users/new",
        "/admin/tokens",
        "/admin/audit",
        "/admin/policies",
        "/admin/policies/compare",
        "/admin?lang=en",
        "/inspector",
    ] {
        let (status, page) = html(&root, path).await;
        assert_eq!(status, 200, "{path}: {page}");
    }

    for who in ["fed", "tax", "emp"] {
        let s = sign_in(&app, who).await;
        for path in ["/admin", "/admin/users", "/admin/audit", "/admin/policies"] {
            let (status, page) = html(&s, path).await;
            assert_eq!(status, 403, "{who} {path}");
            assert!(page.contains("无权访问"), "a page, not a problem: {page}");
        }
    }
    let emp = sign_in(&app, "emp").await;
    assert_eq!(emp.get("/inspector").await.status(), 403);
    assert_eq!(emp.get("/inspector/violations.csv").await.status(), 403);

    // An inspector posting to the administration, even with its own valid token.
    for path in [
        "/admin/users",
        "/admin/tokens",
        "/admin/users/emp/disable",
        "/admin/tokens/1/revoke",
        "/admin/no-such-form",
    ] {
        let r = insp
            .post_form(path, &[("role", "admin"), ("username", "sneaky")])
            .await;
        assert_eq!(r.status(), 403, "{path}");
    }
    let (status, _) = html(&root, "/admin/users/sneaky").await;
    assert_eq!(status, 404, "nothing was created");
    let (status, page) = html(&root, "/admin/no-such-page").await;
    assert_eq!(status, 404, "{page}");
}

#[tokio::test]
async fn the_inspector_list_keeps_to_the_region_filters_and_downloads() {
    let (app, _, _) = assessed_10000().await;
    let elsewhere = zhengzhou_employer(&app).await;
    person(&app, "insp", Role::Inspector, None, Some("411200")).await;
    person(&app, "all", Role::Inspector, None, None).await;
    let insp = sign_in(&app, "insp").await;
    let all = sign_in(&app, "all").await;

    let (status, page) = html(&insp, LIST).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(USCC_A), "{page}");
    assert!(page.contains(&format!("href=\"/officer/employers/{USCC_A}\"")));
    assert!(
        page.contains("逾期未缴") && page.contains("滞纳金 1,500.00"),
        "{page}"
    );
    assert!(page.contains("11,500.00"), "the employer's debt: {page}");
    assert!(
        !page.contains(&elsewhere),
        "another region's employer: {page}"
    );
    // The unscoped inspector sees both; the scoped one may not ask for Zhengzhou.
    let (_, everything) = html(&all, LIST).await;
    assert!(everything.contains(&elsewhere) && everything.contains(USCC_A));
    let (status, refused) = html(&insp, &format!("{LIST}&county=410102")).await;
    assert_eq!(status, 422);
    assert!(refused.contains("不在您的权限范围内") && !refused.contains(&elsewhere));

    // Filters: kind, amount range, public bodies.
    let (_, overdue) = html(&all, &format!("{LIST}&kind=overdue")).await;
    assert!(overdue.contains(USCC_A) && !overdue.contains(&elsewhere));
    let (_, not_declared) = html(&all, &format!("{LIST}&kind=not_declared")).await;
    assert!(not_declared.contains(&elsewhere) && !not_declared.contains(USCC_A));
    let (_, big) = html(&all, &format!("{LIST}&min=10000&max=20000")).await;
    assert!(big.contains(USCC_A) && !big.contains(&elsewhere));
    let (_, small) = html(&all, &format!("{LIST}&max=100")).await;
    assert!(!small.contains(USCC_A) && small.contains(&elsewhere));
    let (_, public) = html(&all, &format!("{LIST}&public=1")).await;
    assert!(!public.contains(USCC_A) && !public.contains(&elsewhere));
    let (status, bad) = html(&all, &format!("{LIST}&min=abc")).await;
    assert_eq!(status, 422);
    assert!(bad.contains("id=\"f-min-err\""), "{bad}");

    // The downloads hold what the page shows, no certificate number.
    let r = insp
        .get("/inspector/violations.csv?levy_year=2025&as_of=2026-01-30")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}统一社会信用代码 (uscc)"), "{csv}");
    assert!(csv.contains(USCC_A) && !csv.contains(&elsewhere));
    assert!(!csv.contains(CERT_A) && !csv.contains(&CERT_A[..18]));
    let r = insp
        .get("/inspector/violations.xlsx?levy_year=2025&as_of=2026-01-30&kind=overdue")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test]
async fn the_list_pages_by_keyset() {
    let (app, _, _) = assessed_10000().await;
    let admin = app.token(Role::Admin, None, None).await;
    // 55 undeclared employers in Sanmenxia, besides A: two pages of 50.
    for i in 0..55 {
        let uscc = uscc_with_check(&format!("914112000000{i:05}"));
        let r = app
            .send(
                Method::POST,
                "/api/v1/employers",
                Some(&admin),
                Some(
                    json!({"uscc": uscc, "name": format!("单位{i}"), "kind": "enterprise",
                            "region": "411202"}),
                ),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    person(&app, "insp", Role::Inspector, None, Some("411200")).await;
    let insp = sign_in(&app, "insp").await;
    let (_, first) = html(&insp, LIST).await;
    assert!(first.contains("共 56 个单位"), "{first}");
    let rows = |h: &str| h.matches("href=\"/officer/employers/").count();
    assert_eq!(rows(&first), 50);
    let start = first.find("rel=\"next\"").map(|i| &first[..i]).unwrap();
    let href = start
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(href.contains("after="), "{href}");
    let (status, second) = html(&insp, &href).await;
    assert_eq!(status, 200);
    assert_eq!(rows(&second), 6, "{href}");
    assert!(!second.contains("rel=\"next\""));
    assert!(first.contains(USCC_A) && !second.contains(USCC_A));
}

#[tokio::test]
async fn a_forged_admin_form_changes_nothing() {
    let app = spawn_app().await;
    person(&app, "root", Role::Admin, None, None).await;
    person(&app, "insp", Role::Inspector, None, None).await;
    let root = sign_in(&app, "root").await;
    let fields = [
        ("role", "admin"),
        ("mode", "password"),
        ("username", "intruder"),
        ("password", "a long passphrase 一二三"),
        ("confirm_password", "a long passphrase 一二三"),
    ];
    let r = root.post_raw("/admin/users", &fields).await;
    assert_eq!(r.status(), 403);
    let mut wrong = vec![("csrf_token", "0".repeat(64))];
    wrong.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(root.post_raw("/admin/users", &wrong).await.status(), 403);
    assert_eq!(
        root.post_raw("/admin/users/insp/disable", &[])
            .await
            .status(),
        403
    );
    assert_eq!(
        root.post_raw("/admin/tokens", &[("role", "admin")])
            .await
            .status(),
        403
    );
    let (status, _) = html(&root, "/admin/users/intruder").await;
    assert_eq!(status, 404);
    let (_, users) = html(&root, "/admin/users/insp").await;
    assert!(users.contains("有效"), "still active: {users}");
    let (_, tokens) = html(&root, "/admin/tokens").await;
    assert!(!tokens.contains("qlv_"), "no token made: {tokens}");
    // The same form with the session's token works.
    let r = root.post_form("/admin/users", &fields).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/users/intruder");
}

#[tokio::test]
async fn a_new_token_is_shown_once_and_revoked() {
    let app = spawn_app().await;
    person(&app, "root", Role::Admin, None, None).await;
    let root = sign_in(&app, "root").await;
    let r = root
        .post_form(
            "/admin/tokens",
            &[
                ("role", "inspector"),
                ("region", "411200"),
                ("label", "监察接口"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let start = page.find("qlv_").expect("the token shown");
    let token: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert!(token.len() > 20, "{token}");
    let api = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(api.status(), 200, "the token works");
    let (_, list) = html(&root, "/admin/tokens").await;
    assert!(!list.contains(&token), "never shown again");
    assert!(list.contains(&token[..12]) && list.contains("监察接口"));
    // Bad scope: a fault beside the field, nothing made.
    let r = root
        .post_form("/admin/tokens", &[("role", "employer")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"f-employer-err\""));

    let id = list
        .split("/admin/tokens/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let r = root
        .post_form(&format!("/admin/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let api = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(api.status(), 401);
    let (_, audit) = html(
        &root,
        &format!("/admin/audit?entity_type=api_token&entity_id={id}"),
    )
    .await;
    assert!(
        audit.contains("token.create") && audit.contains("token.revoke"),
        "{audit}"
    );
    assert!(
        audit.contains(":admin"),
        "the administrator is the actor: {audit}"
    );
    assert!(!audit.contains(&token));
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_a_reset_needs_the_password_twice() {
    let app = spawn_app().await;
    person(&app, "root", Role::Admin, None, None).await;
    person(&app, "insp", Role::Inspector, None, None).await;
    let root = sign_in(&app, "root").await;
    let insp = sign_in(&app, "insp").await;
    assert_eq!(insp.get("/inspector").await.status(), 200);

    let r = root
        .post_form(
            "/admin/users/insp/password",
            &[
                ("password", "another long pass 四五六"),
                ("confirm_password", "different"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("id=\"f-confirm_password-err\""));
    assert_eq!(
        insp.get("/inspector").await.status(),
        200,
        "nothing changed"
    );

    let r = root.post_form("/admin/users/insp/disable", &[]).await;
    assert_eq!(r.status(), 303);
    let r = insp.get("/inspector").await;
    assert_eq!(r.status(), 303, "the session ended");
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let (_, page) = html(&root, "/admin/users/insp").await;
    assert!(page.contains("已停用"));
    let (_, audit) = html(&root, "/admin/audit?entity_type=user&entity_id=insp").await;
    assert!(audit.contains("user.disable") && audit.contains("sessions_ended"));
    // An administrator cannot lock themselves out.
    let r = root.post_form("/admin/users/root/disable", &[]).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn the_audit_log_filters_and_never_shows_a_certificate_number() {
    let (app, _, _) = assessed_10000().await;
    // A declaration with a roster line (CERT_A) saved by the employer.
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let r = app
        .send(
            Method::PUT,
            &format!("/api/v1/employers/{USCC_A}/declarations/2024"),
            Some(&emp),
            Some(declaration_body()),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    person(&app, "root", Role::Admin, None, None).await;
    let root = sign_in(&app, "root").await;
    let r = root
        .post_form(
            "/admin/users",
            &[
                ("role", "tax"),
                ("mode", "password"),
                ("username", "tax-clerk"),
                ("region", "411200"),
                ("password", "a long passphrase 一二三"),
                ("confirm_password", "a long passphrase 一二三"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);

    let (status, all) = html(&root, "/admin/audit").await;
    assert_eq!(status, 200);
    assert!(
        all.contains("declaration") && all.contains("user.create"),
        "{all}"
    );
    assert!(
        !all.contains(CERT_A) && !all.contains(&CERT_A[..18]),
        "{all}"
    );
    let (_, decl) = html(&root, "/admin/audit?entity_type=declaration").await;
    assert!(decl.contains("class=\"entry\""), "{decl}");
    assert!(!decl.contains(CERT_A) && !decl.contains(&CERT_A[..18]));
    assert!(!decl.contains("user.create"));

    let (_, users) = html(&root, "/admin/audit?entity_type=user").await;
    assert!(users.contains("tax-clerk") && !users.contains("declaration.put"));
    let actor = users
        .split("<span class=\"mono\">user:")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .map(|s| format!("user:{s}"))
        .expect("an actor");
    let (_, by_actor) = html(&root, &format!("/admin/audit?actor={actor}")).await;
    assert!(by_actor.contains("user.create") && !by_actor.contains(USCC_A));
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let (_, later) = html(&root, &format!("/admin/audit?from={tomorrow}")).await;
    assert!(!later.contains("class=\"entry\""), "{later}");
    let (_, until) = html(
        &root,
        &format!("/admin/audit?until={tomorrow}&entity_type=user"),
    )
    .await;
    assert!(until.contains("tax-clerk"));
    let (status, _) = html(&root, "/admin/audit?from=yesterday").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn the_policy_pages_show_values_and_the_changes_between_two_dates() {
    let app = spawn_app().await;
    person(&app, "root", Role::Admin, None, None).await;
    let root = sign_in(&app, "root").await;
    let (status, one) = html(&root, "/admin/policies?region=411202&as_of=2025-06-01").await;
    assert_eq!(status, 200);
    assert!(one.contains("quota_ratio") && one.contains("1.6%"));
    assert!(one.contains("河南省人民政府令第127号"), "citations shown");
    assert!(one.contains("暂定"), "provisional values marked");

    // Henan's own threshold for public institutions (63) from 2022; the national 67 before.
    let (status, diff) = html(
        &root,
        "/admin/policies/compare?region=410000&as_of=2021-06-01&as_of_b=2022-06-01",
    )
    .await;
    assert_eq!(status, 200, "{diff}");
    let row = |key: &str| {
        diff.split("<tr")
            .find(|r| r.contains(&format!(">{key}<")))
            .unwrap_or_else(|| panic!("no row {key}: {diff}"))
            .to_owned()
    };
    let threshold = row("public_body_threshold.public_institution");
    assert!(threshold.starts_with(" class=\"changed\""), "{threshold}");
    assert!(threshold.contains("≥ 67") && threshold.contains("≥ 63"));
    assert!(!row("quota_ratio").starts_with(" class=\"changed\""));
    let (status, _) = html(&root, "/admin/policies/compare?region=99&as_of=2021-06-01").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn an_invited_employer_gets_the_activation_mail() {
    let app = spawn_app_with_smtp(&[]).await;
    let admin = app.token(Role::Admin, None, None).await;
    let uscc = uscc_with_check("91411202MA0000088");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc, "name": "邀请测试有限公司", "kind": "enterprise",
                        "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    person(&app, "root", Role::Admin, None, None).await;
    let root = sign_in(&app, "root").await;
    // Without an address on record or typed: the field says so.
    let r = root
        .post_form(
            "/admin/users",
            &[
                ("role", "employer"),
                ("mode", "invite"),
                ("employer", &uscc),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"f-email-err\""));
    let r = root
        .post_form(
            "/admin/users",
            &[
                ("role", "employer"),
                ("mode", "invite"),
                ("employer", &uscc),
                ("email", "hr@invited.example.cn"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("邀请已发出"));
    let report = app.send_mail().await;
    assert_eq!(report.sent, 1, "{report:?}");
    let sink = app.smtp.as_ref().unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["rcpt_tos"]
        .to_string()
        .contains("hr@invited.example.cn"));
    let zh = text_part(&messages[0], "zh-CN");
    let start = zh.find("/activate/").expect("an activation link");
    let path: String = zh[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect();
    let r = client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("邀请测试有限公司"));
    let (_, audit) = html(
        &root,
        &format!("/admin/audit?entity_type=employer&entity_id={uscc}"),
    )
    .await;
    assert!(audit.contains("activation.invite"), "{audit}");
}
