//! Public compliance notices (公示): who may publish, the frozen snapshot and its
//! statuses, the three public forms with their digest and no personal data,
//! corrections that leave the first notice untouched, and the mails queued with it.

use crate::helpers::{
    app_with_employer, declaration_body, policy, test_settings, uscc_with_check, TestApp, CERT_A,
    USCC_A,
};
use quota_levy::auth::Role;
use quota_levy::db::outbox;
use quota_levy::mail::Templates;
use quota_levy::registry::notices::{
    for_each_text, plan_mails, publish, MailPlan, NoticeMail, PublishRequest,
};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The holder's ID number inside CERT_A: it must appear nowhere public either.
const HOLDER_ID: &str = "11010519850118002X";

/// `server.public_base_url` of a test app that sets none.
const DEFAULT_BASE: &str = "http://127.0.0.1:8080";

async fn register(app: &TestApp, admin: &str, uscc: &str, name: &str, email: Option<&str>) {
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(admin),
            Some(
                json!({"uscc": uscc, "name": name, "kind": "enterprise", "region": "411221",
                        "contact_email": email}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

async fn declare(app: &TestApp, uscc: &str, body: Value) {
    let emp = app.token(Role::Employer, Some(uscc), None).await;
    let path = format!("/api/v1/employers/{uscc}/declarations/2025");
    let r = app.send(Method::PUT, &path, Some(&emp), Some(body)).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = app
        .send(Method::POST, &format!("{path}/submit"), Some(&emp), None)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

async fn assess(app: &TestApp, tax: &str, uscc: &str) {
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/employers/{uscc}/assessments/2025"),
            Some(tax),
            None,
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

/// Four employers, one per status: A compliant (N 100, required 1.6; one severely
/// disabled employee on its roster counts as 2), B below quota (N 100, D 1), C exempt
/// (N 20), D not declared. B is declared but not yet assessed.
async fn four_employers() -> (TestApp, String, [String; 3]) {
    let (app, admin) = app_with_employer().await;
    let b = uscc_with_check("91411221MA0000001");
    let c = uscc_with_check("91411221MA0000002");
    let d = uscc_with_check("91411221MA0000003");
    register(&app, &admin, &b, "渑池未达标有限公司", Some("b@example.cn")).await;
    register(&app, &admin, &c, "渑池小微商店", None).await;
    register(&app, &admin, &d, "渑池未申报有限公司", Some("d@example.cn")).await;
    declare(&app, USCC_A, declaration_body()).await;
    let simple = |n: &str| json!({"staff": {"average_headcount": n}, "average_wage": "60000.00", "disabled_count": "1"});
    declare(&app, &b, simple("100")).await;
    declare(&app, &c, simple("20")).await;
    let tax = app.token(Role::Tax, None, None).await;
    assess(&app, &tax, USCC_A).await;
    assess(&app, &tax, &c).await;
    (app, tax, [b, c, d])
}

/// POSTs `body` to a notices route with an optional token.
async fn post(app: &TestApp, path: &str, token: Option<&String>, body: Value) -> reqwest::Response {
    app.send(Method::POST, path, token.map(String::as_str), Some(body))
        .await
}

/// Publishes the notice of 411200 for levy year 2025 as `fed`; its id.
async fn publish_2025(app: &TestApp, fed: &String) -> i64 {
    let r = post(
        app,
        "/api/v1/notices",
        Some(fed),
        json!({"region": "411200", "levy_year": 2025}),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> (u16, String, String) {
    // A connection of its own: one kept idle from an earlier request may be closed by
    // the server's keep-alive timeout just as it is reused on a slow, shared machine.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut rb = client.get(app.url(path));
    if let Some(a) = accept {
        rb = rb.header("Accept", a);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ctype, r.text().await.unwrap())
}

/// What a Python script prints given `input` on its standard input.
fn python(script: &str, input: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The digest as the notice documents it, computed by Python's json module: an
/// independent implementation of the canonical form.
fn python_digest(notice_json: &str) -> String {
    python(
        "import sys, json, hashlib\n\
         c = json.load(sys.stdin)['content']\n\
         t = json.dumps(c, ensure_ascii=False, separators=(',', ':'), sort_keys=True)\n\
         print(hashlib.sha256(t.encode('utf-8')).hexdigest())",
        notice_json,
    )
}

/// The text parts of a raw message, decoded by Python's email package (the parts are
/// base64 or quoted-printable on the wire).
fn mail_text(raw: &str) -> String {
    python(
        "import sys, email, email.policy\n\
         m = email.message_from_string(sys.stdin.read(), policy=email.policy.default)\n\
         print('\\n'.join(p.get_content() for p in m.walk() if p.get_content_type() == 'text/plain'))",
        raw,
    )
}

#[tokio::test]
async fn publish_serve_and_correct_a_notice() {
    let (app, tax, [b, c, d]) = four_employers().await;
    let fed = app.token(Role::Federation, None, Some("411200")).await;
    let body = json!({"region": "411200", "levy_year": 2025});

    // Who may publish.
    let r = post(&app, "/api/v1/notices", None, body.clone()).await;
    assert_eq!(r.status(), 401);
    for role in [Role::Tax, Role::Inspector] {
        let t = app.token(role, None, None).await;
        let r = post(&app, "/api/v1/notices", Some(&t), body.clone()).await;
        assert_eq!(r.status(), 403, "{role:?}");
    }
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let r = post(&app, "/api/v1/notices", Some(&emp), body.clone()).await;
    assert_eq!(r.status(), 403);
    let luoyang = app.token(Role::Federation, None, Some("410300")).await;
    let r = post(&app, "/api/v1/notices", Some(&luoyang), body.clone()).await;
    assert_eq!(r.status(), 403, "outside its region");

    // Bad input names the field; nothing is published.
    for (bad, pointer) in [
        (json!({"levy_year": 2025}), "/region"),
        (json!({"region": "411200", "levy_year": 1999}), "/levy_year"),
        (
            json!({"region": "411200", "levy_year": 2025, "objection_days": 0}),
            "/objection_days",
        ),
        (
            json!({"region": "411200", "levy_year": 2025, "replaces": 1}),
            "/correction_reason",
        ),
        (
            json!({"region": "411200", "levy_year": 2025, "colour": "red"}),
            "/colour",
        ),
    ] {
        let r = post(&app, "/api/v1/notices", Some(&fed), bad).await;
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.unwrap();
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["pointer"] == pointer),
            "{p}"
        );
    }

    // A region without employers: nothing to publish.
    let national = app.token(Role::Federation, None, None).await;
    let r = post(
        &app,
        "/api/v1/notices",
        Some(&national),
        json!({"region": "411300", "levy_year": 2025}),
    )
    .await;
    assert_eq!(r.status(), 409);

    // B declared but is not assessed: no notice with made-up figures.
    let r = post(&app, "/api/v1/notices", Some(&fed), body.clone()).await;
    assert_eq!(r.status(), 409);
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains(&b), "{p}");
    let list: Value = app
        .send(Method::GET, "/api/v1/notices", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "nothing was published");
    let r = post(&app, "/api/v1/notices/preview", Some(&fed), body.clone()).await;
    assert_eq!(r.status(), 409, "the preview checks as publishing does");
    assess(&app, &tax, &b).await;

    // The preview: what would be published, stored nowhere.
    let r = post(&app, "/api/v1/notices/preview", Some(&emp), body.clone()).await;
    assert_eq!(r.status(), 403);
    let r = post(&app, "/api/v1/notices/preview", Some(&fed), body.clone()).await;
    assert_eq!(r.status(), 200);
    let preview: Value = r.json().await.unwrap();
    let list: Value = app
        .send(Method::GET, "/api/v1/notices", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "a preview publishes nothing");

    let r = post(&app, "/api/v1/notices", Some(&fed), body.clone()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let published: Value = r.json().await.unwrap();
    let id = published["id"].as_i64().unwrap();
    assert_eq!(
        published["summary"],
        json!({"employers": 4, "compliant": 1, "below_quota": 1, "exempt": 1, "not_declared": 1})
    );
    let sha = published["sha256"].as_str().unwrap().to_owned();
    assert_eq!(
        published["reminders_queued"], 3,
        "A, B and D have a contact address (queued even with the worker off)"
    );
    assert_eq!(
        preview["sha256_if_published_today"], sha,
        "published the same day, the notice is exactly what the preview showed"
    );

    // JSON, by ?format and by Accept: public, the digest matches the content.
    let (status, ctype, text) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let (_, _, by_accept) = get(&app, &format!("/notices/{id}"), Some("application/json")).await;
    assert_eq!(text, by_accept);
    let first: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(first["sha256"], sha.as_str());
    assert_eq!(first["state"], "in_force");
    assert_eq!(
        python_digest(&text),
        sha,
        "the documented recipe gives the digest"
    );
    let content = &first["content"];
    assert_eq!(content["region"], "411200");
    assert_eq!(content["region_name"], "三门峡市");
    assert_eq!(content["published_on"], published["published_on"]);
    assert_eq!(content["objection_until"], published["objection_until"]);
    let status_of = |uscc: &str| {
        content["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["uscc"] == uscc)
            .unwrap_or_else(|| panic!("{uscc} listed"))
            .clone()
    };
    let a = status_of(USCC_A);
    assert_eq!(a["status"], "compliant");
    assert_eq!(a["staff"], "100.0000");
    assert_eq!(a["region_name"], "湖滨区");
    assert_eq!(status_of(&d)["region_name"], "渑池县");
    assert_eq!(a["required"], "1.6000");
    assert_eq!(a["counted"], "2.0000");
    assert_eq!(status_of(&b)["status"], "below_quota");
    assert_eq!(status_of(&b)["counted"], "1.0000");
    assert_eq!(status_of(&c)["status"], "exempt");
    let nd = status_of(&d);
    assert_eq!(nd["status"], "not_declared");
    assert_eq!(nd["staff"], Value::Null);

    // HTML (a browser's Accept, and no Accept at all) and CSV.
    let (status, ctype, page) = get(
        &app,
        &format!("/notices/{id}"),
        Some("text/html,application/xhtml+xml,*/*;q=0.8"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(page.contains("三门峡市2025年度用人单位按比例安排残疾人就业情况公示"));
    assert!(page.contains(&sha));
    assert!(page.contains(&format!(
        "异议期截止：{}",
        published["objection_until"].as_str().unwrap()
    )));
    assert!(page.contains("未达到规定比例") && page.contains("未申报"));
    let r = app
        .client
        .get(app.url(&format!("/notices/{id}")))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let (_, _, bare) = get(&app, &format!("/notices/{id}"), None).await;
    assert_eq!(bare, page);
    let (status, ctype, csv) = get(&app, &format!("/notices/{id}"), Some("text/csv")).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert!(csv.starts_with('\u{feff}'), "BOM for Chinese Excel");
    assert!(csv.contains(&format!("内容摘要 SHA-256 (sha256),{sha}")));
    assert!(
        csv.contains(&format!(
            "{USCC_A},示例公司,企业,411202,湖滨区,100.0000,1.6000,2.0000,已达到规定比例"
        )),
        "{csv}"
    );
    for text in [&text, &page, &csv] {
        assert!(
            !text.contains(CERT_A) && !text.contains(HOLDER_ID),
            "no certificate or ID number"
        );
        assert!(!text.contains("1101****"), "not even masked");
    }

    // Conditional requests: the page is not rendered again while it is current.
    let etag_of = |r: &reqwest::Response| {
        r.headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let r = app
        .client
        .get(app.url(&format!("/notices/{id}")))
        .send()
        .await
        .unwrap();
    let html_tag = etag_of(&r);
    assert!(html_tag.contains(&sha[..16]), "{html_tag}");
    let conditional = |tag: String| {
        app.client
            .get(app.url(&format!("/notices/{id}")))
            .header("If-None-Match", tag)
            .send()
    };
    assert_eq!(conditional(html_tag.clone()).await.unwrap().status(), 304);
    let head = app
        .client
        .head(app.url(&format!("/notices/{id}?format=csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(etag_of(&head).contains("-csv-"));
    assert!(head.text().await.unwrap().is_empty());

    // Unknown ids and formats.
    assert_eq!(get(&app, "/notices/999", None).await.0, 404);
    assert_eq!(get(&app, "/notices/abc", None).await.0, 404);
    assert_eq!(
        get(&app, &format!("/notices/{id}?format=pdf"), None)
            .await
            .0,
        422
    );

    // A correction: B's roster was wrong. The first notice is unchanged but superseded.
    let fix = json!({"region": "411200", "levy_year": 2025, "replaces": id,
                     "correction_reason": "渑池未达标有限公司的残疾职工人数有误"});
    let r = post(&app, "/api/v1/notices", Some(&fed), fix.clone()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let second: Value = r.json().await.unwrap();
    let id2 = second["id"].as_i64().unwrap();
    assert_eq!(second["replaces"], id);
    assert_eq!(
        second["reminders_queued"], 3,
        "a correction is a new notice, a new mail"
    );

    let (_, _, again) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    let old: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(old["content"], first["content"], "content never edited");
    assert_eq!(old["sha256"], sha.as_str());
    assert_eq!(python_digest(&again), sha);
    assert_eq!(old["state"], "superseded");
    assert_eq!(old["superseded_by"]["id"], id2);
    let (_, _, old_page) = get(&app, &format!("/notices/{id}"), None).await;
    assert!(old_page.contains(&format!(
        "本公示已被更正，以<a href=\"{DEFAULT_BASE}/notices/{id2}\">"
    )));
    let (_, _, old_csv) = get(&app, &format!("/notices/{id}?format=csv"), None).await;
    assert!(old_csv.contains("已被更正 (superseded)"));

    let r = conditional(html_tag.clone()).await.unwrap();
    assert_eq!(r.status(), 200, "superseded: the old copy is stale");
    assert_ne!(etag_of(&r), html_tag);

    let (_, _, new_text) = get(&app, &format!("/notices/{id2}?format=json"), None).await;
    let new: Value = serde_json::from_str(&new_text).unwrap();
    assert_eq!(new["content"]["replaces"]["id"], id);
    assert_eq!(new["content"]["replaces"]["sha256"], sha.as_str());
    assert_eq!(new["state"], "in_force");
    assert_eq!(python_digest(&new_text), new["sha256"].as_str().unwrap());

    // The first notice can be corrected once; the correction is what to correct next.
    let r = post(&app, "/api/v1/notices", Some(&fed), fix).await;
    assert_eq!(r.status(), 409);
    let missing = json!({"region": "411200", "levy_year": 2025, "replaces": 999,
                         "correction_reason": "x"});
    let r = post(&app, "/api/v1/notices", Some(&fed), missing).await;
    assert_eq!(r.status(), 422);

    // The public index.
    let list: Value = app
        .send(
            Method::GET,
            "/api/v1/notices?region=411200&levy_year=2025",
            None,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["id"], id2);
    assert_eq!(list["items"][1]["superseded_by"], id2);

    let (status, ctype, index) = get(&app, "/notices?region=411200", None).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"));
    assert!(index.contains(&format!(
        "<a href=\"{DEFAULT_BASE}/notices/{id2}\">三门峡市2025年度用人单位按比例安排残疾人就业情况公示（更正第{id}号公示）</a>"
    )), "{index}");
    assert!(index.contains(&format!(
        "已被<a href=\"{DEFAULT_BASE}/notices/{id2}\">第{id2}号公示</a>更正"
    )));
    assert!(index.contains("共2份公示"));
    assert_eq!(get(&app, "/notices?levy_year=1900", None).await.0, 422);

    // Not even the database lets a published notice change.
    let url = app.db_url.clone();
    let refused = tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        let db = crate::helpers::open_db(&url);
        let mut c = db.conn().unwrap();
        let update = diesel::sql_query("UPDATE notices SET entries = 0").execute(&mut *c);
        let delete = diesel::sql_query("DELETE FROM notices").execute(&mut *c);
        update.is_err() && delete.is_err()
    })
    .await
    .unwrap();
    assert!(refused, "the trigger refuses UPDATE and DELETE");
    let (_, _, after) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    assert_eq!(python_digest(&after), sha);
}

#[tokio::test]
async fn publishing_owes_one_mail_per_employer_named_with_an_address_planned_after_it() {
    let (app, tax, [b, c, _d]) = four_employers().await;
    assess(&app, &tax, &b).await;
    let url = app.db_url.clone();
    let (published, owed, planned, again, replanned, rows, text) =
        tokio::task::spawn_blocking(move || {
            let db = crate::helpers::open_db(&url);
            let settings = test_settings(&url, &[]);
            let templates = Templates::from_settings(&settings.mail).unwrap();
            let mail = NoticeMail {
                templates: &templates,
            };
            let req = PublishRequest {
                region: "411200".parse().unwrap(),
                levy_year: 2025,
                objection_days: 10,
                replaces: None,
            };
            let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
            let mut c = db.conn().unwrap();
            let p = publish(
                &mut c,
                &policy(),
                &settings.notices,
                &req,
                today,
                Some(&mail),
                "test",
                None,
            )
            .unwrap();
            // The process stops here, before any mail is queued: the mails are still owed.
            let owed = outbox::all(&mut c).unwrap().len();
            let planned = plan_mails(&mut c, &policy(), &templates, None).unwrap();
            let again = plan_mails(&mut c, &policy(), &templates, None).unwrap();
            // As if the record of the planning were lost (it cannot be: one transaction
            // holds both), the whole notice planned again queues nothing twice.
            diesel::RunQueryDsl::execute(
                diesel::sql_query(format!(
            "UPDATE notice_mailings SET planned_through = 0, queued = 0, finished_at = NULL \
             WHERE notice_id = {}",
            p.row.id
        )),
                &mut *c,
            )
            .unwrap();
            let replanned = plan_mails(&mut c, &policy(), &templates, Some(p.row.id)).unwrap();
            // The whole content as stored: the head with the entries spliced back in.
            let mut text = String::new();
            for_each_text(&mut c, &p.row, &mut |t| {
                text.push_str(t);
                Ok(())
            })
            .unwrap();
            (
                p,
                owed,
                planned,
                again,
                replanned,
                outbox::all(&mut c).unwrap(),
                text,
            )
        })
        .await
        .unwrap();
    assert_eq!(published.row.objection_until.to_string(), "2026-03-12");
    assert!(published.mails_owed);
    assert_eq!(owed, 0, "the publication queues no mail itself");
    // A, B and D have an address; C has none.
    assert_eq!(
        planned,
        MailPlan {
            notices: 1,
            queued: 3
        }
    );
    assert_eq!(
        again,
        MailPlan::default(),
        "a finished notice is not planned again"
    );
    assert_eq!(
        replanned,
        MailPlan {
            notices: 1,
            queued: 0
        }
    );
    assert_eq!(rows.len(), 3);
    let mut to: Vec<i64> = rows.iter().map(|r| r.employer_id).collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), 3, "one mail per employer");
    let stage = format!("notice-{}", published.row.id);
    for r in &rows {
        assert_eq!(r.kind, "notice_published");
        assert_eq!(r.stage, stage);
        assert!(r
            .body_zh
            .contains(&format!("/notices/{}", published.row.id)));
        assert!(r.body_zh.contains("2026-03-12"), "{}", r.body_zh);
        assert!(!r.body_zh.contains(CERT_A) && !r.body_en.contains(HOLDER_ID));
    }
    let to_b = rows.iter().find(|r| r.recipient == "b@example.cn").unwrap();
    assert!(to_b.body_zh.contains("未达到规定比例"), "{}", to_b.body_zh);
    let to_a = rows
        .iter()
        .find(|r| r.recipient == "hr@example.cn")
        .unwrap();
    assert!(to_a.body_zh.contains("已达到规定比例"), "{}", to_a.body_zh);
    assert!(rows.iter().all(|r| !r.body_zh.contains(&c)));

    // The digest is SHA-256 of what is stored: the head and its entries, read back.
    assert!(published.row.entries_in_rows);
    assert!(
        published.row.content_json.contains(",\"entries\":[],"),
        "the stored head holds no entries: {}",
        published.row.content_json
    );
    assert_eq!(text.matches("\"uscc\":").count(), 4, "{text}");
    let stored_sha = hex::encode(Sha256::digest(text.as_bytes()));
    assert_eq!(published.row.content_sha256, stored_sha);
}

fn cli(db_url: &str, args: &[&str]) -> std::process::Output {
    crate::helpers::bin(Some(db_url))
        .args(args)
        .output()
        .expect("run quota-levy")
}

#[tokio::test]
async fn notices_publish_and_list_from_the_command_line() {
    let (app, tax, [b, _, _]) = four_employers().await;
    let url = app.db_url.clone();
    let publish = [
        "notices",
        "publish",
        "--region",
        "411200",
        "--levy-year",
        "2025",
    ];
    let u = url.clone();
    let out = tokio::task::spawn_blocking(move || cli(&u, &publish))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "B is not assessed yet");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&b));

    assess(&app, &tax, &b).await;
    let u = url.clone();
    let dry = tokio::task::spawn_blocking(move || {
        let mut args = publish.to_vec();
        args.push("--dry-run");
        (cli(&u, &args), cli(&u, &["notices", "list"]))
    })
    .await
    .unwrap();
    assert!(dry.0.status.success());
    assert!(String::from_utf8_lossy(&dry.0.stdout).contains("would publish (nothing was written)"));
    assert!(String::from_utf8_lossy(&dry.1.stdout).contains("0 notice(s)"));

    let u = url.clone();
    let out = tokio::task::spawn_blocking(move || cli(&u, &publish))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("published notice 1"), "{text}");
    let (_, _, json_text) = get(&app, "/notices/1?format=json", None).await;
    assert!(text.contains(&python_digest(&json_text)), "{text}");
    assert!(text.contains("(compliant 1, below quota 1, exempt 1, not declared 1)"));

    let u = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let no_reason = cli(
            &u,
            &[
                "notices",
                "publish",
                "--region",
                "411200",
                "--levy-year",
                "2025",
                "--replaces",
                "1",
            ],
        );
        let fixed = cli(
            &u,
            &[
                "notices",
                "publish",
                "--region",
                "411200",
                "--levy-year",
                "2025",
                "--replaces",
                "1",
                "--reason",
                "更正",
            ],
        );
        let list = cli(&u, &["notices", "list", "--region", "411200"]);
        [no_reason, fixed, list]
    })
    .await
    .unwrap();
    assert!(!out[0].status.success(), "a correction needs a reason");
    assert!(
        out[1].status.success(),
        "{}",
        String::from_utf8_lossy(&out[1].stderr)
    );
    let list = String::from_utf8_lossy(&out[2].stdout);
    assert!(list.contains("2 notice(s)"), "{list}");
    assert!(list.contains("superseded by 2"), "{list}");
}

#[tokio::test]
async fn a_notice_links_to_the_public_address_in_force_when_it_is_rendered() {
    let (app, tax, [b, _, _]) = four_employers().await;
    assess(&app, &tax, &b).await;
    let fed = app.token(Role::Federation, None, Some("411200")).await;
    let body = json!({"region": "411200", "levy_year": 2025});

    // Published by a server left at the default address...
    let r = post(&app, "/api/v1/notices", Some(&fed), body.clone()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let first: Value = r.json().await.unwrap();
    let id = first["id"].as_i64().unwrap();
    assert_eq!(first["url"], format!("{DEFAULT_BASE}/notices/{id}"));
    let fix = json!({"region": "411200", "levy_year": 2025, "replaces": id,
                     "correction_reason": "更正"});
    let r = post(&app, "/api/v1/notices", Some(&fed), fix).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let id2 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (_, _, old_json) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    let old_tag = app
        .client
        .get(app.url(&format!("/notices/{id}")))
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    // ...and served, later, by one configured with its public address.
    const NEW: &str = "https://levy.example.gov.cn/smx";
    let later = crate::helpers::serve_also(&app, &[("QUOTA_LEVY__SERVER__PUBLIC_BASE_URL", NEW)]);
    let fetch = |path: String| {
        let url = format!("{later}{path}");
        async move { reqwest::get(url).await.unwrap() }
    };
    let r = fetch(format!("/notices/{id}")).await;
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(
        link,
        format!("<{NEW}/notices/{id2}>; rel=\"successor-version\"")
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "本公示网址：<a href=\"{NEW}/notices/{id}\">{NEW}/notices/{id}</a>"
        )),
        "{page}"
    );
    assert!(page.contains(&format!(
        "<a href=\"{NEW}/notices/{id2}\">第{id2}号公示</a>"
    )));
    assert!(page.contains(&format!("<a href=\"{NEW}/notices/{id}?format=csv\">")));
    assert!(!page.contains("127.0.0.1"), "{page}");
    let json_text = fetch(format!("/notices/{id}?format=json"))
        .await
        .text()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(v["url"], format!("{NEW}/notices/{id}"));
    assert_eq!(v["superseded_by"]["url"], format!("{NEW}/notices/{id2}"));
    let old: Value = serde_json::from_str(&old_json).unwrap();
    assert_eq!(v["content"], old["content"], "the content holds no address");
    assert_eq!(python_digest(&json_text), first["sha256"].as_str().unwrap());
    let csv = fetch(format!("/notices/{id}?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains(&format!("{NEW}/notices/{id2}")), "{csv}");
    let index = fetch("/notices".into()).await.text().await.unwrap();
    assert!(
        index.contains(&format!("<a href=\"{NEW}/notices/{id}\">")),
        "{index}"
    );
    assert!(!index.contains("127.0.0.1"), "{index}");
    let list: Value = fetch("/api/v1/notices".into()).await.json().await.unwrap();
    assert_eq!(list["items"][1]["url"], format!("{NEW}/notices/{id}"));
    // A copy cached under the old address is stale under the new one.
    let r = reqwest::Client::new()
        .get(format!("{later}/notices/{id}"))
        .header("If-None-Match", &old_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "not 304: the links changed");

    // The mails were queued without an address, and go out with the sender's.
    let settings = test_settings(&app.db_url, &[("QUOTA_LEVY__SERVER__PUBLIC_BASE_URL", NEW)]);
    let url = app.db_url.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let db = crate::helpers::open_db(&url);
        let queued = outbox::all(&mut db.conn().unwrap()).unwrap();
        let transport = quota_levy::mail::MemoryTransport::new();
        let mailer = quota_levy::mail::Mailer {
            transport: std::sync::Arc::new(transport.clone()),
            sender: quota_levy::mail::Sender::from_settings(&settings).unwrap(),
        };
        let cfg = quota_levy::mail::PassConfig::from_settings(&settings.mail, "test");
        let report = quota_levy::mail::run_pass(
            &db,
            &mailer,
            &cfg,
            &|| chrono::Utc::now().naive_utc(),
            &quota_levy::clock::china_today,
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap();
        (queued, report, transport.sent())
    })
    .await
    .unwrap();
    let (queued, report, messages) = sent;
    assert!(queued
        .iter()
        .all(|r| !r.body_zh.contains("127.0.0.1") && !r.body_en.contains("127.0.0.1")));
    assert_eq!(
        report.sent, 6,
        "three employers with an address, two notices"
    );
    for m in &messages {
        let text = mail_text(&m.raw);
        assert!(
            text.contains(&format!("{NEW}/notices/{id}"))
                || text.contains(&format!("{NEW}/notices/{id2}")),
            "{text}"
        );
        assert!(
            !text.contains("127.0.0.1") && !text.contains('\u{2}'),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_old_public_address_key_still_works_with_a_warning() {
    let (app, tax, [b, _, _]) = four_employers().await;
    assess(&app, &tax, &b).await;
    const OLD_KEY: &str = "https://old-key.example.org";
    let url = app.db_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_quota-levy"));
        for (k, _) in std::env::vars() {
            if k.starts_with("QUOTA_LEVY__") {
                c.env_remove(k);
            }
        }
        c.env("QUOTA_LEVY__DATABASE__URL", &url)
            .env("QUOTA_LEVY__LOG__LEVEL", "warn")
            .env("QUOTA_LEVY__MAIL__PUBLIC_BASE_URL", OLD_KEY)
            .env_remove("RUST_LOG")
            .args([
                "notices",
                "publish",
                "--region",
                "411200",
                "--levy-year",
                "2025",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("{OLD_KEY}/notices/1")), "{stdout}");
    assert!(
        stderr.contains("WARN")
            && stderr.contains("mail.public_base_url")
            && stderr.contains("server.public_base_url"),
        "the warning names both keys: {stderr}"
    );
    let served =
        crate::helpers::serve_also(&app, &[("QUOTA_LEVY__MAIL__PUBLIC_BASE_URL", OLD_KEY)]);
    let page = reqwest::get(format!("{served}/notices/1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("本公示网址：<a href=\"{OLD_KEY}/notices/1\">")),
        "{page}"
    );
}

/// `published_on` (YYYY-MM-DD) as the 落款 writes it.
fn date_zh(iso: &str) -> String {
    let d: chrono::NaiveDate = iso.parse().unwrap();
    quota_levy::registry::notices::date_zh(d)
}

#[tokio::test]
async fn the_notice_names_its_issuer_signs_and_says_where_to_object() {
    let (app, tax, [b, _, _]) = four_employers().await;
    assess(&app, &tax, &b).await;
    let fed = app.token(Role::Federation, None, None).await;

    // No issuer configured: the region's federation, generically, and no contact data.
    let id = publish_2025(&app, &fed).await;
    let (_, _, text) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["content"];
    assert_eq!(c["publisher"], "三门峡市残疾人联合会");
    assert_eq!(c["objection_contact"], Value::Null);
    let on = date_zh(c["published_on"].as_str().unwrap());
    let until = date_zh(c["objection_until"].as_str().unwrap());
    assert_eq!(
        c["objection_note"],
        format!("公示期自{on}至{until}。对公示内容有异议的，请于公示期内向三门峡市残疾人联合会书面提出，并提供相关证明材料。")
    );
    let (_, _, page) = get(&app, &format!("/notices/{id}"), None).await;
    assert!(
        page.contains(&format!(
            "<div class=\"signoff\">\n<p>三门峡市残疾人联合会</p>\n<p>{on}</p>\n<p class=\"seal\">（盖章）</p>\n</div>"
        )),
        "{page}"
    );
    assert!(on.contains('年') && on.ends_with('日'), "{on}");
    for absent in ["异议受理：", "电话：", "电子邮箱：", "地址："] {
        assert!(!page.contains(absent), "no made-up contact: {absent}");
    }
    let (_, _, csv) = get(&app, &format!("/notices/{id}?format=csv"), None).await;
    assert!(csv.contains("发布单位 (publisher),三门峡市残疾人联合会"));
    assert!(!csv.contains("异议受理"), "{csv}");

    // Configured for the city, and for one county of its own: a notice takes the
    // nearest entry up the chain.
    let configured = crate::helpers::serve_also(
        &app,
        &[
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__NAME",
                "示例市残疾人联合会",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_ADDRESS",
                "示例市示例路1号",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_PHONE",
                "0000-0000000",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411200__OBJECTION_EMAIL",
                "objections@example.org",
            ),
            (
                "QUOTA_LEVY__NOTICES__ISSUER__411202__NAME",
                "示例区残疾人联合会",
            ),
        ],
    );
    let client = reqwest::Client::new();
    let publish_at = |region: &'static str| {
        let r = client
            .post(format!("{configured}/api/v1/notices"))
            .bearer_auth(&fed)
            .json(&json!({"region": region, "levy_year": 2025}))
            .send();
        async move {
            let r = r.await.unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }
    };
    // Mianchi county (411221) has no entry: the city's, contact and all.
    let county = publish_at("411221").await;
    let (_, _, text) = get(&app, &format!("/notices/{county}?format=json"), None).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["content"];
    assert_eq!(c["publisher"], "示例市残疾人联合会");
    assert_eq!(
        c["objection_contact"],
        json!({"address": "示例市示例路1号", "phone": "0000-0000000", "email": "objections@example.org"})
    );
    assert!(c["objection_note"]
        .as_str()
        .unwrap()
        .contains("请于公示期内向示例市残疾人联合会书面提出"));
    assert_eq!(
        python_digest(&text),
        v["sha256"].as_str().unwrap(),
        "the contact is in the digest"
    );
    let on = date_zh(c["published_on"].as_str().unwrap());
    let (_, _, page) = get(&app, &format!("/notices/{county}"), None).await;
    assert!(page.contains("发布单位：示例市残疾人联合会"), "{page}");
    assert!(
        page.contains(
            "<div class=\"objection\">\n<p>异议受理：示例市残疾人联合会</p>\n<p>地址：示例市示例路1号</p>\n\
             <p>电话：0000-0000000</p>\n\
             <p>电子邮箱：<a href=\"mailto:objections@example.org\">objections@example.org</a></p>\n</div>"
        ),
        "{page}"
    );
    assert!(page.contains(&format!(
        "<p>示例市残疾人联合会</p>\n<p>{on}</p>\n<p class=\"seal\">（盖章）</p>"
    )));
    let (_, _, csv) = get(&app, &format!("/notices/{county}?format=csv"), None).await;
    assert!(
        csv.contains("异议受理地址 (objection_address),示例市示例路1号"),
        "{csv}"
    );
    assert!(csv.contains("异议受理电话 (objection_phone),0000-0000000"));
    assert!(csv.contains("异议受理电子邮箱 (objection_email),objections@example.org"));

    // Hubin district (411202) has its own, with no contact: its name, and no contact
    // borrowed from the city.
    let district = publish_at("411202").await;
    let (_, _, text) = get(&app, &format!("/notices/{district}?format=json"), None).await;
    let c = serde_json::from_str::<Value>(&text).unwrap()["content"].clone();
    assert_eq!(c["publisher"], "示例区残疾人联合会");
    assert_eq!(c["objection_contact"], Value::Null);

    // Frozen at publication: the first server, without the setting, still shows the
    // configured issuer of the notice published under it.
    let (_, _, page) = get(&app, &format!("/notices/{county}"), None).await;
    assert!(page.contains("异议受理：示例市残疾人联合会"));
}

#[tokio::test]
async fn entries_are_listed_by_county_then_name_in_every_form() {
    let (app, tax, [b, c, d]) = four_employers().await;
    assess(&app, &tax, &b).await;
    // Hubin district (411202), before A by name, after it by USCC.
    let admin = app.token(Role::Admin, None, None).await;
    let e = uscc_with_check("91411202MA0000009");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(json!({"uscc": e, "name": "三门峡湖滨甲有限公司", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let fed = app.token(Role::Federation, None, None).await;
    let id = publish_2025(&app, &fed).await;

    // 411202: 三… before 示…; 411221: 渑池小… before 渑池未申… before 渑池未达… (code
    // points: 小 U+5C0F, 未 U+672A; 申 U+7533, 达 U+8FBE). By USCC it would be A, E, B, C, D.
    let expected = [e.as_str(), USCC_A, c.as_str(), d.as_str(), b.as_str()];
    let (_, _, text) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<&str> = v["content"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uscc"].as_str().unwrap())
        .collect();
    assert_eq!(listed, expected);
    let regions: Vec<&str> = v["content"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["411202", "411202", "411221", "411221", "411221"]);
    let position =
        |text: &str, uscc: &str| text.find(uscc).unwrap_or_else(|| panic!("{uscc} listed"));
    let (_, _, page) = get(&app, &format!("/notices/{id}"), None).await;
    let (_, _, csv) = get(&app, &format!("/notices/{id}?format=csv"), None).await;
    for (form, text) in [("html", &page), ("csv", &csv)] {
        let at: Vec<usize> = expected.iter().map(|u| position(text, u)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{form}: {at:?}");
    }
    assert!(
        csv.contains(&format!("\r\n1,{e},三门峡湖滨甲有限公司,")),
        "numbered in that order: {csv}"
    );
}

#[tokio::test]
async fn the_pages_fit_a_phone_and_still_print_on_a4_landscape() {
    let (app, tax, [b, _, _]) = four_employers().await;
    assess(&app, &tax, &b).await;
    let fed = app.token(Role::Federation, None, None).await;
    let id = publish_2025(&app, &fed).await;
    for path in [format!("/notices/{id}"), "/notices".to_owned()] {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            ),
            "{path}"
        );
        // Below 600 px the rows become cards, each value labelled; wider, the table
        // scrolls in its own box.
        assert!(
            page.contains("@media screen and (max-width: 600px)"),
            "{path}"
        );
        assert!(
            page.contains("<div class=\"table-wrap\">\n<table class=\"cards\">"),
            "{path}"
        );
        let cells = page.matches("<td").count();
        assert!(cells > 0);
        assert_eq!(
            page.matches("<td data-label=\"").count() + page.matches("\" data-label=\"").count(),
            cells,
            "{path}: every cell labelled"
        );
        assert!(!page.contains("<script"), "{path}");
    }
    let (_, _, page) = get(&app, &format!("/notices/{id}"), None).await;
    assert!(page.contains("@page { size: A4 landscape; margin: 15mm; }"));
    assert!(
        page.contains("thead { display: table-header-group; }"),
        "the header repeats on every printed page"
    );
}

/// The notice of `demo generate` data of `n` employers (more than one chunk of the
/// composition and of the served forms), assessed by the command line, published by
/// the API: the app, the notice's id and its JSON form.
async fn demo_notice(n: &'static str) -> (TestApp, i64, Value, String) {
    let app = crate::helpers::spawn_app().await;
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        for args in [
            &[
                "demo",
                "generate",
                "--employers",
                n,
                "--levy-year",
                "2025",
                "--seed",
                "7",
            ][..],
            &["assess", "--levy-year", "2025"][..],
        ] {
            let out = cli(&url, args);
            assert!(out.status.success(), "{args:?}: {out:?}");
        }
    })
    .await
    .unwrap();
    let fed = app.token(Role::Federation, None, None).await;
    let id = publish_2025(&app, &fed).await;
    let (status, _, text) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    (app, id, v, text)
}

/// The notice as the whole region was composed in memory before entries were rows:
/// every employer registered by the year's end, its status and figures from its
/// current assessment, sorted by region, name and USCC (Rust compares strings by code
/// point). Read here with one query of its own, not the publication's chunks.
fn notice_in_memory(url: &str) -> Vec<Value> {
    use diesel::prelude::*;
    use quota_levy::db::schema::{assessments, declarations, employers};
    let db = crate::helpers::open_db(url);
    let mut c = db.conn().unwrap();
    type Row = (
        String,
        String,
        String,
        Option<chrono::NaiveDate>,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<bool>,
    );
    let rows: Vec<Row> = employers::table
        .left_join(
            declarations::table.on(declarations::employer_id
                .eq(employers::id)
                .and(declarations::levy_year.eq(2025))),
        )
        .left_join(
            assessments::table.on(assessments::employer_id
                .eq(employers::id)
                .and(assessments::levy_year.eq(2025))
                .and(assessments::is_current.eq(true))),
        )
        .select((
            employers::uscc,
            employers::name,
            employers::region,
            employers::registered_on,
            declarations::status.nullable(),
            assessments::staff_x12_e4.nullable(),
            assessments::required_e4.nullable(),
            assessments::disabled_x12_e4.nullable(),
            assessments::shortfall_e4.nullable(),
            assessments::exempt.nullable(),
        ))
        .load(&mut *c)
        .unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let four = |x: rust_decimal::Decimal| quota_levy::domain::money::format_count(x, 4);
    let per_year =
        |x: i64| four(rust_decimal::Decimal::new(x, 4) / rust_decimal::Decimal::from(12));
    let mut out: Vec<(String, String, String, Value)> = rows
        .into_iter()
        .filter(|r| r.2.starts_with("4112") && r.3.is_none_or(|d| d <= end))
        .map(|(uscc, name, region, _, status, n, r, d, s, x)| {
            let filed = status
                .as_deref()
                .and_then(quota_levy::db::declarations::Status::parse)
                .is_some_and(|s| s.is_filed());
            let entry = match (filed, n, r, d, s, x) {
                (false, ..) => json!({"uscc": uscc, "status": "not_declared",
                    "staff": null, "required": null, "counted": null}),
                (true, Some(n), Some(r), Some(d), Some(s), Some(x)) => json!({
                    "uscc": uscc,
                    "status": if x { "exempt" } else if s > 0 { "below_quota" } else { "compliant" },
                    "staff": per_year(n),
                    "required": four(rust_decimal::Decimal::new(r, 4)),
                    "counted": per_year(d),
                }),
                _ => panic!("{uscc} filed but not assessed"),
            };
            (region, name, uscc, entry)
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    out.into_iter().map(|(_, _, _, e)| e).collect()
}

/// The USCCs of the table rows of an HTML page of a notice, in order.
fn page_usccs(page: &str) -> Vec<String> {
    page.split("<td class=\"code\" data-label=\"统一社会信用代码\">")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_owned)
        .collect()
}

/// A link of a page by its relation, unescaped.
fn page_link(page: &str, rel: &str) -> Option<String> {
    let at = page.find(&format!("\" rel=\"{rel}\""))?;
    let start = page[..at].rfind("href=\"")? + 6;
    Some(page[start..at].replace("&amp;", "&"))
}

#[tokio::test]
async fn entries_as_rows_are_the_notice_composed_in_memory_and_its_digest_holds() {
    let (app, id, v, text) = demo_notice("2300").await;
    let entries = v["content"]["entries"].as_array().unwrap();
    let expected = notice_in_memory(&app.db_url);
    assert!(
        expected.len() > 2000,
        "more than one chunk: {}",
        expected.len()
    );
    assert_eq!(entries.len(), expected.len());
    assert_eq!(v["content"]["summary"]["employers"], expected.len());
    for (i, (got, want)) in entries.iter().zip(&expected).enumerate() {
        for key in ["uscc", "status", "staff", "required", "counted"] {
            assert_eq!(got[key], want[key], "entry {} {key}", i + 1);
        }
    }
    // The digest: of the canonical content served, by Python's json module; the same
    // on a second reading and on the stored row.
    let sha = v["sha256"].as_str().unwrap();
    assert_eq!(python_digest(&text), sha);
    let (_, _, again) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    assert_eq!(again, text, "read twice, the same bytes");
    let (_, _, api) = get(&app, &format!("/api/v1/notices/{id}"), None).await;
    assert_eq!(api, text);
    // The CSV lists the same entries in the same order, numbered.
    let (_, _, csv) = get(&app, &format!("/notices/{id}?format=csv"), None).await;
    let listed: Vec<&str> = csv
        .split("\r\n")
        .skip_while(|l| !l.starts_with("序号"))
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(listed.len(), entries.len());
    for (i, (line, e)) in listed.iter().zip(entries).enumerate() {
        let uscc = e["uscc"].as_str().unwrap();
        assert!(line.starts_with(&format!("{},{uscc},", i + 1)), "{line}");
    }
}

#[tokio::test]
async fn the_pages_walk_every_entry_once_and_a_search_by_name_finds_one() {
    let (app, id, v, _) = demo_notice("2300").await;
    let all: Vec<String> = v["content"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uscc"].as_str().unwrap().to_owned())
        .collect();
    let path = |href: &str| href.trim_start_matches(DEFAULT_BASE).to_owned();

    // Forward by "next" from the first page, then back by "previous" from the last.
    let mut walked = Vec::new();
    let mut pages = Vec::new();
    let mut at = format!("/notices/{id}");
    loop {
        let (status, _, page) = get(&app, &at, None).await;
        assert_eq!(status, 200, "{at}");
        let rows = page_usccs(&page);
        assert!(
            !rows.is_empty() && rows.len() <= 100,
            "{at}: {}",
            rows.len()
        );
        walked.extend(rows.clone());
        pages.push(rows);
        match page_link(&page, "next") {
            Some(next) => at = path(&next),
            None => break,
        }
        assert!(pages.len() < 100, "the walk ends");
    }
    assert_eq!(walked, all, "every entry once, in order");
    let mut back = vec![pages.last().unwrap().clone()];
    let (_, _, last) = get(&app, &at, None).await;
    let mut prev = page_link(&last, "prev");
    while let Some(href) = prev {
        let (_, _, page) = get(&app, &path(&href), None).await;
        back.push(page_usccs(&page));
        prev = page_link(&page, "prev");
    }
    back.reverse();
    assert_eq!(back.concat(), all, "and back again");

    // A part of a name in the middle of the notice finds its employer, and the count
    // is that of the names that contain it.
    let entries = v["content"]["entries"].as_array().unwrap();
    let target = &entries[entries.len() / 2];
    let name = target["name"].as_str().unwrap();
    let part: String = name.chars().skip(1).take(4).collect();
    let (status, _, page) = get(
        &app,
        &format!("/notices/{id}?q={}", utf8_query(&part)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let like = entries
        .iter()
        .filter(|e| e["name"].as_str().unwrap().contains(&part))
        .count();
    assert!(page.contains(&format!("共{like}家")), "{part}: {like}");
    let mut found = page_usccs(&page);
    let mut next = page_link(&page, "next");
    while let Some(href) = next {
        let (_, _, p) = get(&app, &path(&href), None).await;
        found.extend(page_usccs(&p));
        next = page_link(&p, "next");
    }
    assert_eq!(found.len(), like);
    assert!(found.contains(&target["uscc"].as_str().unwrap().to_owned()));
    // LIKE's wildcards are searched as themselves.
    let (_, _, none) = get(&app, &format!("/notices/{id}?q=%25"), None).await;
    assert!(none.contains("共0家") && page_usccs(&none).is_empty());
    let (status, _, _) = get(&app, &format!("/notices/{id}?after=-1"), None).await;
    assert_eq!(status, 422, "a negative place is refused, naming the field");
}

fn utf8_query(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn no_roster_number_of_the_region_is_in_any_public_form_of_its_notice() {
    use diesel::prelude::*;
    use quota_levy::db::schema::roster_lines;
    let (app, id, _, json_text) = demo_notice("600").await;
    let db = crate::helpers::open_db(&app.db_url);
    let numbers: Vec<(String, String)> = roster_lines::table
        .select((roster_lines::certificate_no, roster_lines::holder_id))
        .load(&mut *db.conn().unwrap())
        .unwrap();
    assert!(!numbers.is_empty(), "the demo has rosters");
    let (_, _, csv) = get(&app, &format!("/notices/{id}?format=csv"), None).await;
    let (_, _, page) = get(&app, &format!("/notices/{id}"), None).await;
    for (form, text) in [("json", &json_text), ("csv", &csv), ("html", &page)] {
        for (cert, holder) in &numbers {
            assert!(
                !text.contains(cert.as_str()),
                "{form}: a certificate number"
            );
            assert!(!text.contains(holder.as_str()), "{form}: an ID number");
        }
    }
}

#[tokio::test]
async fn the_entries_of_a_published_notice_cannot_be_added_changed_or_removed() {
    use diesel::prelude::*;
    let (app, tax, [b, _, _]) = four_employers().await;
    assess(&app, &tax, &b).await;
    let fed = app.token(Role::Federation, None, None).await;
    let id = publish_2025(&app, &fed).await;
    let db = crate::helpers::open_db(&app.db_url);
    let mut c = db.conn().unwrap();
    for sql in [
        format!(
            "INSERT INTO notice_entries (notice_id, entry_no, uscc, name, kind, kind_zh, \
             region, region_name, status, status_zh) VALUES ({id}, 99, 'x', 'x', 'x', 'x', \
             'x', 'x', 'compliant', 'x')"
        ),
        format!("UPDATE notice_entries SET name = 'x' WHERE notice_id = {id}"),
        format!("DELETE FROM notice_entries WHERE notice_id = {id}"),
    ] {
        let r = diesel::sql_query(&sql).execute(&mut *c);
        assert!(r.is_err(), "refused: {sql}");
    }
    let (_, _, text) = get(&app, &format!("/notices/{id}?format=json"), None).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["content"]["entries"].as_array().unwrap().len(), 4);
    assert_eq!(python_digest(&text), v["sha256"].as_str().unwrap());
}
