//! The federation's pages as an officer uses them, signed in through the forms: the
//! walls (role 403, region 404, forged form 403 with nothing changed), the queue with
//! masked numbers and the audited opening, certifying many at once, returning one to
//! the employer (mailed, shown on the API, submitted again), a dispute decided, and an
//! objection upheld and answered by a correction notice, and the register's forms
//! refused with the text typed kept and the fault beside its field.

use crate::helpers::web::{person, sign_in, WebSession};
use crate::helpers::{app_with_employer, assessed_10000, declaration_body, uscc_with_check};
use crate::helpers::{TestApp, CERT_A, USCC_A};
use quota_levy::auth::Role;
use quota_levy::db::outbox;
use reqwest::Method;
use serde_json::{json, Value};

const DECL_A: &str = "/api/v1/employers/91350100M000100Y43/declarations/2025";

/// Registers an employer of `region` (with a contact address).
async fn register(app: &TestApp, admin: &str, uscc: &str, name: &str, region: &str) {
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(admin),
            Some(
                json!({"uscc": uscc, "name": name, "kind": "enterprise", "region": region,
                        "contact_email": "hr@example.cn"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

/// Declares (the roster with CERT_A) and submits for `uscc`.
async fn declare(app: &TestApp, uscc: &str, submit: bool) {
    let emp = app.token(Role::Employer, Some(uscc), None).await;
    let path = format!("/api/v1/employers/{uscc}/declarations/2025");
    let r = app
        .send(Method::PUT, &path, Some(&emp), Some(declaration_body()))
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    if submit {
        let r = app
            .send(Method::POST, &format!("{path}/submit"), Some(&emp), None)
            .await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
}

async fn status_of(app: &TestApp, uscc: &str) -> Value {
    let admin = app.admin().await;
    app.send(
        Method::GET,
        &format!("/api/v1/employers/{uscc}/declarations/2025"),
        Some(&admin),
        None,
    )
    .await
    .json()
    .await
    .unwrap()
}

/// A federation officer of `region`, signed in.
async fn officer(app: &TestApp, name: &str, region: Option<&str>) -> WebSession {
    person(app, name, Role::Federation, None, region).await;
    sign_in(app, name).await
}

async fn html(s: &WebSession, path: &str) -> (u16, String) {
    let r = s.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

fn audit_rows(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    use diesel::prelude::*;
    use quota_levy::db::schema::audit_log;
    let db = app.pool();
    let mut c = db.conn().unwrap();
    audit_log::table
        .order(audit_log::id.asc())
        .select((audit_log::action, audit_log::actor, audit_log::after_json))
        .load(&mut *c)
        .unwrap()
}

#[tokio::test]
async fn the_pages_open_for_an_officer_and_refuse_other_roles() {
    let (app, _) = app_with_employer().await;
    let fed = officer(&app, "fed-all", None).await;
    for path in [
        "/federation",
        "/federation?levy_year=2025&lang=en",
        "/federation/disputes?levy_year=2025",
        "/federation/notices",
        "/federation/declarations/91350100M000100Y43/2025",
    ] {
        let (status, page) = html(&fed, path).await;
        let want = if path.contains("/declarations/") {
            404
        } else {
            200
        };
        assert_eq!(status, want, "{path}: {page}");
    }
    let (_, en) = html(&fed, "/federation?lang=en").await;
    assert!(en.contains("Certification queue"), "{en}");
    assert!(en.contains("href=\"/federation/disputes?lang=en\""), "{en}");

    person(&app, "tax-1", Role::Tax, None, None).await;
    person(&app, "insp-1", Role::Inspector, None, None).await;
    person(&app, USCC_A, Role::Employer, Some(USCC_A), None).await;
    for name in ["tax-1", "insp-1", USCC_A] {
        let s = sign_in(&app, name).await;
        for path in ["/federation", "/federation/notices", "/federation/disputes"] {
            let (status, page) = html(&s, path).await;
            assert_eq!(status, 403, "{name} {path}");
            assert!(page.contains("无权访问"), "{page}");
        }
    }
    let anon = crate::helpers::web::client()
        .get(app.url("/federation?levy_year=2025"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 303);
    assert_eq!(
        anon.headers()["location"],
        "/login?next=%2Ffederation%3Flevy%5Fyear%3D2025"
    );
}

#[tokio::test]
async fn an_officer_of_one_region_sees_no_employer_of_another() {
    let (app, admin) = app_with_employer().await;
    let far = uscc_with_check("91430102MA0000001");
    register(&app, &admin, &far, "长沙某公司", "430102").await;
    declare(&app, &far, true).await;
    declare(&app, USCC_A, true).await;
    let fed = officer(&app, "fed-411200", Some("411200")).await;
    let (status, _) = html(&fed, &format!("/federation/declarations/{far}/2025")).await;
    assert_eq!(status, 404);
    let r = fed
        .post_form(
            &format!("/federation/declarations/{far}/2025/reveal"),
            &[("line", "0")],
        )
        .await;
    assert_eq!(r.status(), 404);
    let (status, queue) = html(&fed, "/federation?levy_year=2025").await;
    assert_eq!(status, 200);
    assert!(queue.contains(USCC_A) && !queue.contains(&far), "{queue}");
    assert_eq!(
        html(&fed, "/federation?levy_year=2025&county=430102")
            .await
            .0,
        404
    );
    // Certifying it from a forged pick is refused as unknown, and nothing changes.
    let r = fed
        .post_form(
            "/federation/certify",
            &[("levy_year", "2025"), ("pick", &far)],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("没有该单位"));
    assert_eq!(status_of(&app, &far).await["status"], "submitted");
}

#[tokio::test]
async fn a_form_without_its_token_changes_nothing() {
    let (app, _) = app_with_employer().await;
    declare(&app, USCC_A, true).await;
    let fed = officer(&app, "fed-x", Some("411200")).await;
    for (path, fields) in [
        (
            "/federation/certify",
            vec![("levy_year", "2025"), ("pick", USCC_A)],
        ),
        (
            "/federation/declarations/91350100M000100Y43/2025/return",
            vec![("reason", "名册有误")],
        ),
        (
            "/federation/declarations/91350100M000100Y43/2025/reveal",
            vec![("line", "0")],
        ),
    ] {
        let r = fed.post_raw(path, &fields).await;
        assert_eq!(r.status(), 403, "{path}");
        let mut wrong = fields.clone();
        wrong.push(("csrf_token", "not-the-token"));
        assert_eq!(fed.post_raw(path, &wrong).await.status(), 403, "{path}");
    }
    assert_eq!(status_of(&app, USCC_A).await["status"], "submitted");
    assert!(
        !audit_rows(&app)
            .iter()
            .any(|(a, _, _)| a == "roster_line.reveal" || a == "declaration.certify"),
        "nothing audited"
    );
}

#[tokio::test]
async fn numbers_are_masked_until_one_line_is_opened_and_that_is_audited() {
    let (app, _) = app_with_employer().await;
    declare(&app, USCC_A, true).await;
    let fed = officer(&app, "fed-m", Some("411200")).await;
    let (_, queue) = html(&fed, "/federation?levy_year=2025").await;
    assert!(
        queue.contains("示例公司") && !queue.contains(CERT_A),
        "{queue}"
    );
    let (status, page) = html(&fed, &format!("/federation/declarations/{USCC_A}/2025")).await;
    assert_eq!(status, 200);
    assert!(!page.contains(CERT_A), "{page}");
    assert!(page.contains("1101************2X42"), "{page}");
    assert!(!audit_rows(&app)
        .iter()
        .any(|(a, _, _)| a == "roster_line.reveal"));

    let r = fed
        .post_form(
            &format!("/federation/declarations/{USCC_A}/2025/reveal"),
            &[("line", "0")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let shown = r.text().await.unwrap();
    assert!(shown.contains(CERT_A), "{shown}");
    let rows = audit_rows(&app);
    let (_, actor, after) = rows
        .iter()
        .find(|(a, _, _)| a == "roster_line.reveal")
        .expect("the opening is audited");
    assert!(actor.contains("federation"), "{actor}");
    let after = after.clone().unwrap_or_default();
    assert!(after.contains("\"line_no\":0"), "{after}");
    let all = format!("{rows:?}");
    assert!(!all.contains(CERT_A), "no number in the audit log: {all}");
    // A line that does not exist is a 404, audited nowhere.
    let r = fed
        .post_form(
            &format!("/federation/declarations/{USCC_A}/2025/reveal"),
            &[("line", "7")],
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn many_are_certified_at_once_each_audited_with_a_report() {
    let (app, admin) = app_with_employer().await;
    let b = uscc_with_check("91411202MA0000101");
    let c = uscc_with_check("91411202MA0000102");
    register(&app, &admin, &b, "乙公司", "411202").await;
    register(&app, &admin, &c, "丙公司", "411203").await;
    declare(&app, USCC_A, true).await;
    declare(&app, &b, true).await;
    declare(&app, &c, false).await;
    let fed = officer(&app, "fed-many", Some("411200")).await;
    let (_, queue) = html(&fed, "/federation?levy_year=2025").await;
    assert!(queue.contains("示例公司") && queue.contains("乙公司") && !queue.contains("丙公司"));
    // The version each pick names is the one the queue showed.
    let picks: Vec<String> = queue
        .split("name=\"pick\" value=\"")
        .skip(1)
        .filter_map(|p| p.split('"').next().map(str::to_owned))
        .collect();
    assert_eq!(picks.len(), 2, "{queue}");
    let mut fields: Vec<(&str, &str)> = vec![("levy_year", "2025")];
    fields.extend(picks.iter().map(|p| ("pick", p.as_str())));
    let draft = format!("{c}@1");
    fields.push(("pick", &draft));
    let r = fed.post_form("/federation/certify", &fields).await;
    assert_eq!(r.status(), 200);
    let report = r.text().await.unwrap();
    assert!(report.contains("<strong>2</strong>"), "{report}");
    assert!(report.contains("未审核：丙公司"), "{report}");
    assert!(report.contains("须先提交"), "{report}");
    for u in [USCC_A, b.as_str()] {
        assert_eq!(status_of(&app, u).await["status"], "certified", "{u}");
    }
    assert_eq!(status_of(&app, &c).await["status"], "draft");
    let certified = audit_rows(&app)
        .iter()
        .filter(|(a, _, _)| a == "declaration.certify")
        .count();
    assert_eq!(certified, 2);
    // The queue is empty now.
    let (_, empty) = html(&fed, "/federation?levy_year=2025").await;
    assert!(empty.contains("没有待审核的申报"), "{empty}");
}

#[tokio::test]
async fn a_returned_declaration_is_mailed_shown_on_the_api_and_submitted_again() {
    let (app, _) = app_with_employer().await;
    declare(&app, USCC_A, true).await;
    let fed = officer(&app, "fed-r", Some("411200")).await;
    let before = outbox::all(&mut app.pool().conn().unwrap()).unwrap().len();
    let path = format!("/federation/declarations/{USCC_A}/2025/return");
    let r = fed.post_form(&path, &[("reason", "   ")]).await;
    assert_eq!(r.status(), 422);
    // Refused, the declaration page comes back with the fault beside the reason field
    // and the text as typed: a reason over the limit is not lost.
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"reason-error\"") && page.contains("退回原因：请填写"),
        "{page}"
    );
    let long = "证".repeat(501);
    let r = fed.post_form(&path, &[("reason", long.as_str())]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!(">{long}</textarea>")), "{page}");
    assert_eq!(
        outbox::all(&mut app.pool().conn().unwrap()).unwrap().len(),
        before
    );
    let r = fed
        .post_form(&path, &[("reason", "第 1 行的残疾人证已过期，请核实。")])
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("已发邮件通知"));
    let mails = outbox::all(&mut app.pool().conn().unwrap()).unwrap();
    assert_eq!(mails.len(), before + 1);
    let m = mails.last().unwrap();
    assert_eq!(m.kind, "declaration_returned");
    assert_eq!(m.recipient, "hr@example.cn");
    assert!(m.body_zh.contains("残疾人证已过期"), "{}", m.body_zh);

    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let v: Value = app
        .send(Method::GET, DECL_A, Some(&emp), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "returned");
    assert_eq!(v["returned"]["reason"], "第 1 行的残疾人证已过期，请核实。");
    // The employer reads the reason on its own declaration page.
    person(&app, "emp-returned", Role::Employer, Some(USCC_A), None).await;
    let own = sign_in(&app, "emp-returned").await;
    let (code, page) = html(&own, &format!("/my/{USCC_A}/declaration/2025")).await;
    assert_eq!(code, 200);
    assert!(page.contains("残疾人证已过期"), "{page}");
    assert!(audit_rows(&app)
        .iter()
        .any(|(a, _, _)| a == "declaration.return"));
    // Returned again it cannot be (it is no longer submitted), nor certified.
    assert_eq!(fed.post_form(&path, &[("reason", "x")]).await.status(), 409);

    // The employer corrects it (amended, the reason still shown) and submits again.
    let mut body = declaration_body();
    body["disabled_employees"][0]["months"] = json!([1, 2, 3, 4, 5, 6]);
    let r = app.send(Method::PUT, DECL_A, Some(&emp), Some(body)).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "amended");
    assert!(v["returned"]["reason"].is_string(), "{v}");
    let r = app
        .send(Method::POST, &format!("{DECL_A}/submit"), Some(&emp), None)
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "submitted");
    assert!(v["returned"].is_null(), "{v}");
    let (_, queue) = html(&fed, "/federation?levy_year=2025").await;
    assert!(queue.contains("示例公司"), "back in the queue: {queue}");
}

#[tokio::test]
async fn a_returned_declaration_may_be_submitted_again_unchanged() {
    let (app, _) = app_with_employer().await;
    declare(&app, USCC_A, true).await;
    let fed = officer(&app, "fed-r2", None).await;
    let r = fed
        .post_form(
            &format!("/federation/declarations/{USCC_A}/2025/return"),
            &[("reason", "请补充材料")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let r = app
        .send(Method::POST, &format!("{DECL_A}/submit"), Some(&emp), None)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(status_of(&app, USCC_A).await["status"], "submitted");
}

#[tokio::test]
async fn a_dispute_is_decided_from_its_page() {
    let (app, admin) = app_with_employer().await;
    let b = uscc_with_check("91411200MA0000077");
    register(&app, &admin, &b, "乙公司", "411202").await;
    declare(&app, USCC_A, true).await;
    declare(&app, &b, true).await;
    let fed = officer(&app, "fed-d", Some("411200")).await;
    let (status, page) = html(&fed, "/federation/disputes?levy_year=2025").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("示例公司") && page.contains("乙公司"),
        "{page}"
    );
    assert!(
        !page.contains(CERT_A) && page.contains("1101************2X42"),
        "{page}"
    );
    let key = page
        .split("name=\"dispute\" value=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .unwrap()
        .to_owned();
    let r = fed
        .post_form(
            "/federation/disputes/resolve",
            &[
                ("levy_year", "2025"),
                ("dispute", &key),
                ("counted_by", &b),
                ("note", "劳动合同在乙"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let tok = app.federation(None).await;
    let v: Value = app
        .send(
            Method::GET,
            "/api/v1/certificate-disputes?levy_year=2025",
            Some(&tok),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["counted_by"], b.as_str(), "{v}");
}

/// The `location` of a 303.
fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_upheld_objection_is_answered_by_a_correction_notice() {
    let (app, _, _) = assessed_10000().await;
    let fed = officer(&app, "fed-n", Some("411200")).await;
    let notice = [
        ("region", "411200"),
        ("levy_year", "2025"),
        ("objection_days", "7"),
    ];
    let r = fed.post_form("/federation/notices/preview", &notice).await;
    assert_eq!(r.status(), 200);
    let preview = r.text().await.unwrap();
    assert!(
        preview.contains("示例公司") && preview.contains("发布公示"),
        "{preview}"
    );
    assert_eq!(
        fed.post_raw("/federation/notices/publish", &notice)
            .await
            .status(),
        403
    );
    let r = fed.post_form("/federation/notices/publish", &notice).await;
    assert_eq!(r.status(), 303);
    let register = location(&r);
    let id: i64 = register.rsplit('/').next().unwrap().parse().unwrap();
    let (status, page) = html(&fed, &register).await;
    assert_eq!(status, 200);
    assert!(page.contains("尚无异议"), "{page}");

    let today = app.clock.today().to_string();
    let claim = [
        ("entry_uscc", USCC_A),
        ("objector", "李四"),
        ("received_on", today.as_str()),
        ("claim", "伪造"),
    ];
    let forged = fed
        .post_raw(&format!("/federation/notices/{id}/objections"), &claim)
        .await;
    assert_eq!(forged.status(), 403);
    let r = fed
        .post_form(
            &format!("/federation/notices/{id}/objections"),
            &[
                ("entry_uscc", USCC_A),
                ("objector", "张三"),
                ("received_on", &today),
                ("claim", "该单位实际安排了两名残疾人"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = html(&fed, &register).await;
    assert!(page.contains("张三") && page.contains("待处理"), "{page}");
    assert!(!page.contains("李四"), "the forged form recorded nothing");
    // An officer of another region sees no such notice.
    let other = officer(&app, "fed-430000", Some("430000")).await;
    assert_eq!(html(&other, &register).await.0, 404);
    let public = app.get_text(&format!("/notices/{id}"), None).await;
    assert!(!public.contains("张三"), "{public}");
    let oid = page
        .split("/federation/objections/")
        .nth(1)
        .and_then(|p| p.split('/').next())
        .unwrap()
        .to_owned();
    let r = fed
        .post_form(
            &format!("/federation/objections/{oid}/decide"),
            &[("decision", "upheld"), ("note", "已核实，重新核定")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = html(&fed, &register).await;
    assert!(page.contains("发布更正公示"), "{page}");

    let r = fed
        .post_form(
            &format!("/federation/notices/{id}/correction"),
            &[
                ("note", "示例公司的安排人数已更正"),
                ("objection_days", "7"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let fixed: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    assert_ne!(fixed, id);
    let v: Value = app
        .send(Method::GET, &format!("/api/v1/notices/{fixed}"), None, None)
        .await
        .json()
        .await
        .unwrap();
    let reason = v["content"]["correction_reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.starts_with(&format!("答复异议第 {oid} 号")), "{v}");
    assert!(!v.to_string().contains("张三"), "{v}");
    let (_, page) = html(&fed, &register).await;
    assert!(page.contains(&format!("更正公示第 {fixed} 号")), "{page}");
    let actions: Vec<String> = audit_rows(&app).into_iter().map(|r| r.0).collect();
    for a in ["objection.record", "objection.uphold", "objection.answer"] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    assert!(!format!("{:?}", audit_rows(&app)).contains("张三"));
}

/// The objections of the register and the audit entries written so far.
fn objections_written(app: &TestApp) -> (i64, usize) {
    use diesel::prelude::*;
    use quota_levy::db::schema::notice_objections;
    let db = app.pool();
    let mut c = db.conn().unwrap();
    let n: i64 = notice_objections::table
        .count()
        .get_result(&mut *c)
        .unwrap();
    (n, audit_rows(app).len())
}

/// The text of the element `id="{id}"` of a page (an error beside its field).
fn error_beside(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}: {page}"));
    let rest = &page[at..];
    let from = rest.find('>').unwrap() + 1;
    let to = rest.find("</").unwrap();
    rest[from..to].to_owned()
}

#[tokio::test]
async fn a_refused_objection_form_comes_back_with_the_text_typed_and_writes_nothing() {
    let (app, _, _) = assessed_10000().await;
    let fed = officer(&app, "fed-r", Some("411200")).await;
    let notice = [
        ("region", "411200"),
        ("levy_year", "2025"),
        ("objection_days", "7"),
    ];
    let r = fed.post_form("/federation/notices/publish", &notice).await;
    assert_eq!(r.status(), 303);
    let id: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let before = objections_written(&app);

    // A date received after today: the field's fault beside it, the rest as typed.
    let tomorrow = (app.clock.today() + chrono::Duration::days(1)).to_string();
    let r = fed
        .post_form(
            &format!("/federation/notices/{id}/objections"),
            &[
                ("entry_uscc", USCC_A),
                ("objector", "王五"),
                ("received_on", &tomorrow),
                ("claim", "安排人数少算了一人"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    let e = error_beside(&page, "received_on-error");
    assert!(e.starts_with("收到日期：") && e.contains("今天"), "{e}");
    assert!(page.contains(&format!("value=\"{tomorrow}\"")), "{page}");
    assert!(page.contains("value=\"王五\""), "{page}");
    assert!(page.contains(">安排人数少算了一人</textarea>"), "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
    assert_eq!(objections_written(&app), before, "nothing written");

    // In English, a claim left blank.
    let r = fed
        .post_form(
            &format!("/federation/notices/{id}/objections?lang=en"),
            &[
                ("entry_uscc", USCC_A),
                ("objector", "Wang Wu"),
                ("received_on", &app.clock.today().to_string()),
                ("claim", " "),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert_eq!(error_beside(&page, "claim-error"), "Claim: is required");
    assert!(page.contains("value=\"Wang Wu\""), "{page}");
    assert_eq!(objections_written(&app), before, "nothing written");

    // Recorded, then a decision without its choice keeps the note typed.
    let r = fed
        .post_form(
            &format!("/federation/notices/{id}/objections"),
            &[
                ("entry_uscc", USCC_A),
                ("objector", "王五"),
                ("received_on", &app.clock.today().to_string()),
                ("claim", "安排人数少算了一人"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = html(&fed, &format!("/federation/notices/{id}")).await;
    let oid = page
        .split("/federation/objections/")
        .nth(1)
        .and_then(|p| p.split('/').next())
        .unwrap()
        .to_owned();
    let written = objections_written(&app);
    let decide = format!("/federation/objections/{oid}/decide");
    let r = fed.post_form(&decide, &[("note", "已核实花名册")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        error_beside(&page, &format!("decision-{oid}-error")).contains("请选择成立或不成立"),
        "{page}"
    );
    assert!(page.contains(">已核实花名册</textarea>"), "{page}");
    assert!(page.contains("待处理"), "still open: {page}");
    // The choice kept when the note is what is missing.
    let r = fed
        .post_form(&decide, &[("decision", "rejected"), ("note", "")])
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(error_beside(&page, &format!("note-{oid}-error")).starts_with("处理意见："));
    assert!(
        page.contains(&format!(
            "id=\"rej-{oid}\" name=\"decision\" value=\"rejected\" checked"
        )),
        "{page}"
    );
    assert_eq!(objections_written(&app), written, "nothing written");

    // Upheld; deciding it again is refused by its state, above the forms.
    let ok = [("decision", "upheld"), ("note", "已核实")];
    assert_eq!(fed.post_form(&decide, &ok).await.status(), 303);
    let written = objections_written(&app);
    let r = fed.post_form(&decide, &ok).await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(page.contains("该异议已处理"), "{page}");

    // A correction with an objection period out of range keeps its note.
    let r = fed
        .post_form(
            &format!("/federation/notices/{id}/correction"),
            &[("note", "示例公司的人数已更正"), ("objection_days", "0")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        error_beside(&page, "c-days-error").starts_with("异议期："),
        "{page}"
    );
    assert!(page.contains(">示例公司的人数已更正</textarea>"), "{page}");
    assert!(page.contains("value=\"0\""), "{page}");
    assert_eq!(objections_written(&app), written, "no correction published");
}

#[tokio::test]
async fn the_queue_pages_by_county_then_time_without_an_offset() {
    let (app, admin) = app_with_employer().await;
    let b = uscc_with_check("91411203MA0000201");
    let c = uscc_with_check("91411202MA0000202");
    register(&app, &admin, &b, "后县公司", "411203").await;
    register(&app, &admin, &c, "同县后交公司", "411202").await;
    for u in [b.as_str(), USCC_A, c.as_str()] {
        declare(&app, u, true).await;
    }
    let db = app.pool();
    let walked = tokio::task::spawn_blocking(move || {
        let mut conn = db.conn().unwrap();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = quota_levy::db::declarations::queue(
                &mut conn,
                2025,
                "4112",
                None,
                after.as_ref(),
                1,
            )
            .unwrap();
            let Some(row) = page.first() else { break };
            seen.push(row.uscc.clone());
            after = Some(row.key());
        }
        let county =
            quota_levy::db::declarations::queue(&mut conn, 2025, "4112", Some("411203"), None, 10)
                .unwrap();
        (seen, county.len())
    })
    .await
    .unwrap();
    // 411202 first (A before C, by submission), then 411203.
    assert_eq!(walked.0, vec![USCC_A.to_owned(), c.clone(), b.clone()]);
    assert_eq!(walked.1, 1);
    // The page filters by county.
    let fed = officer(&app, "fed-p", None).await;
    let (_, page) = html(&fed, "/federation?levy_year=2025&county=411203").await;
    assert!(
        page.contains("后县公司") && !page.contains("示例公司"),
        "{page}"
    );
}

#[tokio::test]
async fn the_queue_walked_in_small_pages_is_the_whole_queue_once_in_order() {
    use diesel::prelude::*;
    use quota_levy::db::declarations::queue;
    use quota_levy::db::schema::declarations;
    let (app, admin) = app_with_employer().await;
    let mut all = vec![USCC_A.to_owned()];
    for (i, region) in ["411202", "411203", "411202", "411203", "411221", "411202"]
        .iter()
        .enumerate()
    {
        let u = uscc_with_check(&format!("91{region}MA00003{i:02}"));
        register(&app, &admin, &u, &format!("分页公司{i}"), region).await;
        all.push(u);
    }
    for u in &all {
        declare(&app, u, true).await;
    }
    // Submitted together, as a bulk submission would: the ties are ordered by id.
    let db = app.pool();
    let tied = tokio::task::spawn_blocking(move || {
        let mut c = db.conn().unwrap();
        let at = chrono::DateTime::from_timestamp_micros(1_764_000_000_000_000)
            .unwrap()
            .naive_utc();
        diesel::update(declarations::table)
            .set(declarations::submitted_at.eq(at))
            .execute(&mut *c)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(tied, all.len());
    // One employer moves county: its declaration follows it in the queue.
    let moved = &all[2];
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/employers/{moved}"),
            Some(&admin),
            Some(json!({"region": "411221"})),
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let db = app.pool();
    let walked = tokio::task::spawn_blocking(move || {
        let mut c = db.conn().unwrap();
        let mut walk = |county: Option<&str>, size: i64| {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = queue(&mut c, 2025, "4112", county, after.as_ref(), size).unwrap();
                assert!(page.len() as i64 <= size);
                let Some(last) = page.last() else { break };
                after = Some(last.key());
                seen.extend(page);
            }
            seen
        };
        let whole = walk(None, 2);
        let by_three = walk(None, 3);
        let county = walk(Some("411221"), 1);
        // A key from outside the scope starts the scope from its beginning.
        let foreign = quota_levy::db::declarations::QueueKey {
            region: "110101".into(),
            submitted_at: chrono::NaiveDateTime::default(),
            id: 0,
        };
        let restart = queue(&mut c, 2025, "4112", None, Some(&foreign), 100).unwrap();
        (whole, by_three, county, restart)
    })
    .await
    .unwrap();
    let (whole, by_three, county, restart) = walked;
    let keys: Vec<(String, i64)> = whole.iter().map(|r| (r.region.clone(), r.id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "in region then id order, none twice");
    let mut usccs: Vec<String> = whole.iter().map(|r| r.uscc.clone()).collect();
    usccs.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(usccs, expected, "every submitted declaration, once");
    let ids = |rows: &[quota_levy::db::declarations::QueueRow]| -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(&by_three), ids(&whole), "the page size changes nothing");
    assert_eq!(ids(&restart), ids(&whole));
    let county_usccs: Vec<&str> = county.iter().map(|r| r.uscc.as_str()).collect();
    assert_eq!(county_usccs.len(), 2, "{county_usccs:?}");
    assert!(county_usccs.contains(&moved.as_str()) && county_usccs.contains(&all[5].as_str()));
    assert!(whole
        .iter()
        .any(|r| r.uscc == *moved && r.region == "411221"));
}
