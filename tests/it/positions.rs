//! Reserved positions (岗位预留): registered with the office's contact only, published by
//! the federation onto /positions and the feed, gone once filled (the person never
//! shown), expired past their last day.

use crate::helpers::{declaration_body, spawn_app_with, uscc_with_check, TestApp, CERT_A};
use reqwest::Method;
use serde_json::{json, Value};

fn position(title: &str, from: &str, to: &str) -> Value {
    json!({
        "title": title, "openings": 2, "county": "411202", "address": "湖滨区崤山路 1 号",
        "requirements": "能熟练使用电脑", "accessibility": "一楼办公，有无障碍卫生间",
        "wage_min": "2500.00", "wage_max": "3500.00", "open_from": from, "open_to": to,
        "contact_phone": "0398-2912345", "contact_email": "rsc@hubin.gov.cn"
    })
}

/// A public body of 60 staff declares 2025 with no disabled employee, submits, and the
/// tax bureau assesses it: below quota with nobody employed, what the public-body rules
/// (reminder, violator reason) look at. Answers the employer's token.
async fn declare_without_disabled_and_assess(app: &TestApp, uscc: &str, tax: &str) -> String {
    let emp = app.employer(uscc).await;
    let decl = format!("/api/v1/employers/{uscc}/declarations/2025");
    let body = json!({"staff": {"average_headcount": "60"}, "average_wage": "60000.00",
                      "disabled_count": "0"});
    assert_eq!(
        app.call(Method::PUT, &decl, Some(&emp), Some(body)).await.0,
        201
    );
    app.send(Method::POST, &format!("{decl}/submit"), Some(&emp), None)
        .await;
    let (s, a) = app
        .call(
            Method::POST,
            &format!("/api/v1/employers/{uscc}/assessments/2025"),
            Some(tax),
            None,
        )
        .await;
    assert!(s == 200 || s == 201, "{a}");
    emp
}

#[tokio::test]
async fn a_published_position_is_listed_until_filled_and_nothing_personal_is_shown() {
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let fed = app.federation(Some("411200")).await;
    let uscc = uscc_with_check("11411202MB0000011");
    let (s, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc, "name": "湖滨区示例局", "kind": "government_agency",
                        "region": "411202", "establishment_size": 60}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let emp = app.employer(&uscc).await;
    let base = format!("/api/v1/employers/{uscc}/positions");
    let today = quota_levy::clock::china_today();
    let (from, to) = (
        today.to_string(),
        (today + chrono::Days::new(60)).to_string(),
    );

    // A person's mobile number, a QQ mailbox, an ID number in a text: refused, saying why.
    let mut bad = position("档案管理员", &from, &to);
    bad["contact_phone"] = json!("13800138000");
    bad["contact_email"] = json!("12345678@qq.com");
    bad["requirements"] = json!(format!("联系人证号 {CERT_A}"));
    let (s, v) = app.call(Method::POST, &base, Some(&emp), Some(bad)).await;
    assert_eq!(s, 422, "{v}");
    let pointers: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    for p in ["/contact_phone", "/contact_email", "/requirements"] {
        assert!(pointers.contains(&p), "{p} in {v}");
    }
    assert!(
        !v.to_string().contains(CERT_A),
        "the refusal does not repeat the number"
    );
    let (_, list) = app.call(Method::GET, &base, Some(&emp), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing stored");

    let (s, p) = app
        .call(
            Method::POST,
            &base,
            Some(&emp),
            Some(position("档案管理员", &from, &to)),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["status"], "submitted");
    let id = p["id"].as_i64().unwrap();
    // Not public before review.
    let (_, feed) = app.call(Method::GET, "/api/v1/positions", None, None).await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 0);
    let (_, pending) = app
        .call(Method::GET, "/api/v1/positions/pending", Some(&fed), None)
        .await;
    assert_eq!(pending["items"][0]["id"], id);
    let review = format!("/api/v1/positions/{id}/review");
    let (s, _) = app
        .call(
            Method::POST,
            &review,
            Some(&fed),
            Some(json!({"decision": "reject"})),
        )
        .await;
    assert_eq!(s, 422, "a rejection says why");
    let (s, _) = app
        .call(
            Method::POST,
            &review,
            Some(&emp),
            Some(json!({"decision": "publish"})),
        )
        .await;
    assert_eq!(s, 403, "an employer does not publish its own");
    let (s, v) = app
        .call(
            Method::POST,
            &review,
            Some(&fed),
            Some(json!({"decision": "publish"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "published");

    // Public: the feed, the CSV and the page, filtered by county and kind.
    let (s, feed) = app
        .call(Method::GET, "/api/v1/positions?county=411202", None, None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(feed["items"][0]["title"], "档案管理员");
    assert_eq!(feed["items"][0]["contact_phone"], "0398-2912345");
    let (_, other) = app
        .call(Method::GET, "/api/v1/positions?kind=enterprise", None, None)
        .await;
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    let csv = app.get_text("/api/v1/positions?format=csv", None).await;
    assert!(csv.contains("档案管理员"));
    let html = app.get_text("/positions?county=411202", None).await;
    assert!(html.contains("档案管理员") && html.contains("0398-2912345"));
    assert!(html.contains("<label for=\"county\">"));
    let html = app
        .get_text("/positions?kind=government_agency&lang=en", None)
        .await;
    assert!(html.contains("档案管理员") && html.contains("Positions reserved"));

    // Filled by the disabled employee of roster line 0: gone from the public lists, the
    // link kept (and never shown).
    let decl = format!("/api/v1/employers/{uscc}/declarations/2025");
    let (s, v) = app
        .call(Method::PUT, &decl, Some(&emp), Some(declaration_body()))
        .await;
    assert_eq!(s, 201, "{v}");
    let close = format!("{base}/{id}/close");
    let (s, v) = app
        .call(
            Method::POST,
            &close,
            Some(&emp),
            Some(json!({"reason": "filled", "levy_year": 2025, "line_no": 7})),
        )
        .await;
    assert_eq!(s, 422, "no such roster line: {v}");
    let (s, v) = app
        .call(
            Method::POST,
            &close,
            Some(&emp),
            Some(json!({"reason": "filled", "levy_year": 2025, "line_no": 0})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["filled"].as_bool()),
        (Some("filled"), Some(true))
    );
    assert!(!v.to_string().contains(CERT_A));
    let (_, feed) = app.call(Method::GET, "/api/v1/positions", None, None).await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 0);
    let html = app.get_text("/positions", None).await;
    assert!(!html.contains("档案管理员"));
    for text in [html, feed.to_string()] {
        assert!(!text.contains(CERT_A) && !text.contains(&CERT_A[..18]));
    }
    let (s, _) = app
        .call(
            Method::POST,
            &close,
            Some(&emp),
            Some(json!({"reason": "withdrawn"})),
        )
        .await;
    assert_eq!(s, 409, "closed once");
}

#[tokio::test]
async fn a_position_past_its_last_day_is_expired_and_not_listed() {
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let fed = app.federation(None).await;
    let uscc = uscc_with_check("12411202MB0000012");
    app.call(
        Method::POST,
        "/api/v1/employers",
        Some(&admin),
        Some(
            json!({"uscc": uscc, "name": "湖滨区示例中心", "kind": "public_institution",
                    "region": "411202"}),
        ),
    )
    .await;
    let emp = app.employer(&uscc).await;
    let base = format!("/api/v1/employers/{uscc}/positions");
    let today = quota_levy::clock::china_today();
    let (from, to) = (
        today.to_string(),
        (today + chrono::Days::new(10)).to_string(),
    );
    let (_, p) = app
        .call(
            Method::POST,
            &base,
            Some(&emp),
            Some(position("收发员", &from, &to)),
        )
        .await;
    let id = p["id"].as_i64().unwrap();
    app.call(
        Method::POST,
        &format!("/api/v1/positions/{id}/review"),
        Some(&fed),
        Some(json!({"decision": "publish"})),
    )
    .await;
    let (_, feed) = app.call(Method::GET, "/api/v1/positions", None, None).await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 1);
    // Eleven days on, by the app's clock.
    app.clock.set(today + chrono::Days::new(11));
    let (_, feed) = app.call(Method::GET, "/api/v1/positions", None, None).await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 0);
    let (_, mine) = app.call(Method::GET, &base, Some(&emp), None).await;
    assert_eq!(mine["items"][0]["status"], "expired");
}

#[tokio::test]
async fn a_public_body_without_a_disabled_employee_or_an_open_position_is_reminded_once() {
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let tax = app.tax(None).await;
    let uscc = uscc_with_check("11411202MB0000013");
    app.call(
        Method::POST,
        "/api/v1/employers",
        Some(&admin),
        Some(
            json!({"uscc": uscc, "name": "湖滨区示例办", "kind": "government_agency",
                    "region": "411202", "contact_email": "office@hubin.gov.cn"}),
        ),
    )
    .await;
    declare_without_disabled_and_assess(&app, &uscc, &tax).await;
    let url = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let run = || {
            let out = crate::helpers::bin(Some(&url))
                .args([
                    "positions",
                    "remind",
                    "--levy-year",
                    "2025",
                    "--region",
                    "411200",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        (run(), run())
    })
    .await
    .unwrap();
    assert!(out.0.contains("queued: 1"), "{}", out.0);
    assert!(out.1.contains("queued: 0"), "once a year: {}", out.1);
    let db = app.pool();
    let kinds: Vec<String> = tokio::task::spawn_blocking(move || {
        let mut c = db.conn().unwrap();
        quota_levy::db::outbox::all(&mut c)
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    })
    .await
    .unwrap();
    assert!(kinds.contains(&"reserve_position".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn an_employer_registers_a_position_on_its_page_and_a_personal_contact_is_explained() {
    use crate::helpers::web::{person, sign_in};
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let uscc = uscc_with_check("11411202MB0000014");
    app.call(
        Method::POST,
        "/api/v1/employers",
        Some(&admin),
        Some(
            json!({"uscc": uscc, "name": "湖滨区示例所", "kind": "government_agency",
                    "region": "411202"}),
        ),
    )
    .await;
    person(
        &app,
        "emp-14",
        quota_levy::auth::Role::Employer,
        Some(&uscc),
        None,
    )
    .await;
    let web = sign_in(&app, "emp-14").await;
    let html = web.get("/my/positions").await.text().await.unwrap();
    assert!(html.contains("<label for=\"contact_phone\">") && html.contains("不要填写手机号码"));
    let today = quota_levy::clock::china_today();
    let to = (today + chrono::Days::new(30)).to_string();
    let from = today.to_string();
    let mut fields = vec![
        ("title", "收发员"),
        ("openings", "1"),
        ("county", "411202"),
        ("address", "湖滨区崤山路 2 号"),
        ("requirements", "能使用电脑"),
        ("accessibility", "一楼"),
        ("wage_min", "2500"),
        ("wage_max", "3000"),
        ("open_from", from.as_str()),
        ("open_to", to.as_str()),
        ("contact_phone", "13800138000"),
    ];
    let r = web.post_form("/my/positions", &fields).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("手机号码属于个人信息"));
    let r = web.post_raw("/my/positions", &fields).await;
    assert_eq!(r.status(), 403, "no form token");
    fields[10] = ("contact_phone", "0398-2912345");
    let r = web.post_form("/my/positions", &fields).await;
    assert_eq!(r.status(), 303);
    let html = web.get("/my/positions").await.text().await.unwrap();
    assert!(html.contains("收发员") && html.contains("待残联审核"));
}

#[tokio::test]
async fn the_federation_reviews_on_its_page_and_the_employer_closes_on_its_page() {
    use crate::helpers::web::{person, sign_in};
    use quota_levy::auth::Role;
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let uscc = uscc_with_check("11411202MB0000015");
    let (s, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc, "name": "湖滨区示例站", "kind": "government_agency",
                        "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let emp = app.employer(&uscc).await;
    let base = format!("/api/v1/employers/{uscc}/positions");
    let today = app.clock.today();
    let (from, to) = (
        today.to_string(),
        (today + chrono::Days::new(90)).to_string(),
    );
    let mut ids = Vec::new();
    for title in ["文印员", "收发员"] {
        let (s, p) = app
            .call(
                Method::POST,
                &base,
                Some(&emp),
                Some(position(title, &from, &to)),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        ids.push(p["id"].as_i64().unwrap());
    }
    let (print, post) = (ids[0], ids[1]);
    let (s, v) = app
        .call(
            Method::PUT,
            &format!("/api/v1/employers/{uscc}/declarations/2025"),
            Some(&emp),
            Some(declaration_body()),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    person(&app, "fed-15", Role::Federation, None, Some("411200")).await;
    person(&app, "fed-gz", Role::Federation, None, Some("520000")).await;
    person(&app, "emp-15", Role::Employer, Some(&uscc), None).await;
    let status_of = |id: i64| {
        let (app, emp, base) = (&app, &emp, &base);
        async move {
            let (_, list) = app.call(Method::GET, base, Some(emp), None).await;
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == id)
                .map(|p| p["status"].as_str().unwrap().to_owned())
                .unwrap()
        }
    };

    // The queue shows both, with the contact to check; an officer of another region
    // does not see them, and may not publish them.
    let fed = sign_in(&app, "fed-15").await;
    let r = fed.get("/federation/positions").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("文印员") && html.contains("收发员") && html.contains("0398-2912345"));
    let review = |id: i64| format!("/federation/positions/{id}/review");
    let other = sign_in(&app, "fed-gz").await;
    assert!(!other
        .get("/federation/positions")
        .await
        .text()
        .await
        .unwrap()
        .contains("文印员"));
    let r = other
        .post_form(&review(print), &[("decision", "publish")])
        .await;
    assert_eq!(r.status(), 404);
    // A forged form and a rejection without a reason change nothing; the fault stands
    // beside the reason's field.
    let r = fed
        .post_raw(&review(print), &[("decision", "publish")])
        .await;
    assert_eq!(r.status(), 403);
    let r = fed
        .post_form(&review(post), &[("decision", "reject"), ("note", " ")])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"note-{post}-err\"")) && html.contains("退回须填写理由"),
        "{html}"
    );
    assert_eq!(status_of(print).await, "submitted");
    assert_eq!(status_of(post).await, "submitted");
    // Published, and rejected with a reason the employer then reads.
    let r = fed
        .post_form(&review(print), &[("decision", "publish")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/federation/positions?done=publish"
    );
    let r = fed
        .post_form(
            &review(post),
            &[("decision", "reject"), ("note", "请补充岗位工作时间")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(print).await, "published");
    assert_eq!(status_of(post).await, "rejected");
    let html = fed
        .get("/federation/positions?done=publish")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("没有待审核的岗位") && html.contains("岗位已发布"));
    let public = app.get_text("/positions", None).await;
    assert!(public.contains("文印员") && !public.contains("收发员"));
    // The officers' page of the employer says it has an open position.
    let officer = fed
        .get(&format!("/officer/employers/{uscc}?levy_year=2025"))
        .await
        .text()
        .await
        .unwrap();
    assert!(officer.contains("有开放中的残疾人预留岗位"), "{officer}");

    // The employer closes it on its page: the line is checked, faults beside fields.
    let web = sign_in(&app, "emp-15").await;
    let html = web.get("/my/positions").await.text().await.unwrap();
    assert!(html.contains("请补充岗位工作时间") && html.contains("已退回"));
    assert!(html.contains(&format!("action=\"/my/positions/{print}/close\"")));
    assert!(
        !html.contains(&format!("action=\"/my/positions/{post}/close\"")),
        "a rejected position is not closed"
    );
    let close = format!("/my/positions/{print}/close");
    let r = web
        .post_form(
            &close,
            &[("reason", "filled"), ("levy_year", "2025"), ("line_no", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(&format!("id=\"line-{print}-err\"")));
    let r = web
        .post_form(
            &close,
            &[
                ("reason", "filled"),
                ("levy_year", "2025"),
                ("line_no", "9"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("id=\"line-{print}-err\"")) && html.contains("没有这一行"));
    let r = web
        .post_raw(
            &close,
            &[
                ("reason", "filled"),
                ("levy_year", "2025"),
                ("line_no", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403, "no form token");
    assert_eq!(status_of(print).await, "published");
    let r = web
        .post_form(
            &close,
            &[
                ("reason", "filled"),
                ("levy_year", "2025"),
                ("line_no", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(print).await, "filled");
    let html = web
        .get("/my/positions?closed=filled")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已招用残疾人"));
    // Closed once: a second close is refused with the reason.
    let r = web.post_form(&close, &[("reason", "withdrawn")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不能这样变更"));
    // Gone from the public page; nothing of the person on any page.
    let public = app.get_text("/positions", None).await;
    assert!(!public.contains("文印员"));
    let officer = fed
        .get(&format!("/officer/employers/{uscc}?levy_year=2025"))
        .await
        .text()
        .await
        .unwrap();
    assert!(officer.contains("无开放中的残疾人预留岗位") && officer.contains("已招用"));
    for page in [public, officer, html] {
        assert!(!page.contains(CERT_A) && !page.contains(&CERT_A[..18]));
    }
    // Another employer's position is not found from this employer's page.
    let (s, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc_with_check("11411202MB0000016"), "name": "湖滨区另一局",
                        "kind": "government_agency", "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let stranger = app.employer(&uscc_with_check("11411202MB0000016")).await;
    let (s, theirs) = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/employers/{}/positions",
                uscc_with_check("11411202MB0000016")
            ),
            Some(&stranger),
            Some(position("保洁员", &from, &to)),
        )
        .await;
    assert_eq!(s, 201, "{theirs}");
    let r = web
        .post_form(
            &format!("/my/positions/{}/close", theirs["id"]),
            &[("reason", "withdrawn")],
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_violator_list_says_whether_a_public_body_without_a_disabled_employee_has_an_open_position(
) {
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let tax = app.tax(None).await;
    let fed = app.federation(None).await;
    let inspector = app.inspector(None).await;
    let uscc = uscc_with_check("11411202MB0000017");
    let (s, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": uscc, "name": "湖滨区示例委", "kind": "government_agency",
                        "region": "411202", "establishment_size": 60}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let emp = declare_without_disabled_and_assess(&app, &uscc, &tax).await;
    // The list as of today: a position is open on the day asked.
    let today = app.clock.today();
    let list = format!("/api/v1/violations?levy_year=2025&as_of={today}");
    let why = || async {
        let (s, v) = app.call(Method::GET, &list, Some(&inspector), None).await;
        assert_eq!(s, 200, "{v}");
        let row = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["violation"] == "public_body_without_disabled_employee")
            .cloned()
            .unwrap_or_else(|| panic!("{v}"));
        (
            row["why_zh"].as_str().unwrap().to_owned(),
            row["why_en"].as_str().unwrap().to_owned(),
        )
    };
    let (zh, en) = why().await;
    assert!(zh.ends_with("；无开放中的残疾人预留岗位"), "{zh}");
    assert!(en.ends_with("; has no open position reserved for disabled people"));
    // Registered, the position is not open yet; published, it is.
    let (s, p) = app
        .call(
            Method::POST,
            &format!("/api/v1/employers/{uscc}/positions"),
            Some(&emp),
            Some(position(
                "文员",
                &today.to_string(),
                &(today + chrono::Days::new(30)).to_string(),
            )),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert!(why().await.0.ends_with("；无开放中的残疾人预留岗位"));
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/positions/{}/review", p["id"]),
            Some(&fed),
            Some(json!({"decision": "publish"})),
        )
        .await;
    assert_eq!(s, 200);
    let (zh, en) = why().await;
    assert!(zh.ends_with("；有开放中的残疾人预留岗位"), "{zh}");
    assert!(en.ends_with("; has an open position reserved for disabled people"));
}
