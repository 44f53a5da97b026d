//! The employer's own pages (`/my`) over plain HTTP, signed in through the forms: each
//! page answers, another employer's pages answer 404 and an officer's 403, the
//! declaration form stores exactly what the API stores, faults land beside their fields
//! with nothing written, a forged form changes nothing, the roster template opens in a
//! spreadsheet reader and an upload with a bad row names it and writes nothing.

use crate::helpers::web::{client, person, sign_in, WebSession};
use crate::helpers::{app_with_employer, uscc_with_check, TestApp, CERT_A, USCC_A};
use crate::pages::certificate;
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

const YEAR: i32 = 2025;

/// Employer A with an account (its USCC as the username), signed in.
async fn employer_a() -> (TestApp, String, WebSession) {
    let (app, admin) = app_with_employer().await;
    person(&app, USCC_A, Role::Employer, Some(USCC_A), None).await;
    let web = sign_in(&app, USCC_A).await;
    (app, admin, web)
}

async fn register(app: &TestApp, admin: &str, uscc: &str) {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(admin),
            Some(json!({"uscc": uscc, "name": "另一家公司", "kind": "enterprise", "region": "411202"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// The declaration as the API stores it: (status, body), or `None`.
async fn stored(app: &TestApp, uscc: &str) -> Option<(String, Value)> {
    let token = app.employer(uscc).await;
    let (status, v) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{uscc}/declarations/{YEAR}"),
            Some(&token),
            None,
        )
        .await;
    match status {
        200 => Some((
            v["status"].as_str().unwrap_or_default().to_owned(),
            v["declaration"].clone(),
        )),
        404 => None,
        other => panic!("GET declaration: {other} {v}"),
    }
}

fn page_of(uscc: &str) -> String {
    format!("/my/{uscc}/declaration/{YEAR}")
}

/// The form of a declaration with one roster line, as a browser sends it.
fn filled(action: &str) -> Vec<(String, String)> {
    [
        ("action", action),
        ("average_headcount", "100"),
        ("total_wages", "7000000.00"),
        ("e0_shown", "1"),
        ("e0_cert", CERT_A),
        ("e0_kind", "disability"),
        ("e0_months", "1-12"),
        ("e0_establishment", "on"),
        ("e0_insurance", "on"),
        ("e0_wage", "3000.00"),
        ("e1_shown", "1"),
        ("e1_kind", "disability"),
        ("e1_insurance", "on"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

async fn post(web: &WebSession, path: &str, fields: &[(String, String)]) -> reqwest::Response {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    web.post_form(path, &refs).await
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_employer_opens_its_own_pages_only() {
    let (app, admin, web) = employer_a().await;
    let r = web.get("/my?lang=en").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/my/{USCC_A}?lang=en"));
    let pages = [
        format!("/my/{USCC_A}"),
        format!("/my/{USCC_A}/declaration/{YEAR}"),
        format!("/my/{USCC_A}/declaration/{YEAR}/roster"),
        format!("/my/{USCC_A}/assessment/{YEAR}"),
        format!("/my/{USCC_A}/statement/{YEAR}"),
        format!("/my/{USCC_A}/statement/{YEAR}/notice"),
        format!("/my/{USCC_A}/notices"),
        format!("/my/{USCC_A}/contact"),
        format!("/my/{USCC_A}/roster-template.xlsx"),
    ];
    for p in &pages {
        let r = web.get(p).await;
        assert_eq!(r.status(), 200, "{p}");
        if !p.ends_with(".xlsx") {
            let html = r.text().await.unwrap();
            assert!(html.contains("示例公司"), "{p} names the employer");
            let en = web.get(&format!("{p}?lang=en")).await.text().await.unwrap();
            assert!(en.contains("<html lang=\"en\">"), "{p} in English");
            if !p.ends_with("/notice") {
                assert!(
                    en.contains("?lang=en\""),
                    "{p} keeps the language on its links"
                );
            }
        }
    }
    // Another employer's pages, registered or not, are the 404 page.
    let b = uscc_with_check("91411202MA0000099");
    register(&app, &admin, &b).await;
    let nobody = uscc_with_check("91411202MA0000088");
    for other in [&b, &nobody] {
        for p in &pages {
            let path = p.replace(USCC_A, other);
            let r = web.get(&path).await;
            assert_eq!(r.status(), 404, "{path}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("未找到") && !html.contains("另一家公司"),
                "{path}"
            );
        }
        let r = post(&web, &page_of(other), &filled("save")).await;
        assert_eq!(r.status(), 404);
    }
    assert!(stored(&app, &b).await.is_none(), "nothing declared for B");
    // An officer has its own pages.
    person(&app, "tax-officer", Role::Tax, None, Some("411200")).await;
    let tax = sign_in(&app, "tax-officer").await;
    assert_eq!(tax.get("/my").await.status(), 403);
    assert_eq!(tax.get(&pages[1]).await.status(), 403);
    // Not signed in: to the sign-in, and back.
    let r = client().get(app.url(&pages[1])).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/login?next=%2Fmy%2F{USCC_A}%2Fdeclaration%2F{YEAR}")
    );
}

#[tokio::test]
async fn the_form_saves_and_submits_what_the_api_stores() {
    let (app, _, web) = employer_a().await;
    let r = post(&web, &page_of(USCC_A), &filled("save")).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert_eq!(location(&r), format!("{}?done=saved", page_of(USCC_A)));
    let want = json!({
        "staff": {"average_headcount": "100"},
        "total_wages": "7000000.00",
        "disabled_employees": [{
            "certificate_no": CERT_A,
            "months": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "on_establishment": true,
            "monthly_wage": "3000.00"
        }]
    });
    let (status, body) = stored(&app, USCC_A).await.expect("a draft");
    assert_eq!(status, "draft");
    assert_eq!(body, want);
    // The same body by the API is the same declaration: nothing new.
    let token = app.employer(USCC_A).await;
    let (code, v) = app
        .call(
            Method::PUT,
            &format!("/api/v1/employers/{USCC_A}/declarations/{YEAR}"),
            Some(&token),
            Some(want.clone()),
        )
        .await;
    assert_eq!((code, v["version"].as_i64()), (200, Some(1)), "{v}");
    // The form shows it again, the certificate in full for its own employer.
    let html = web.get(&page_of(USCC_A)).await.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{CERT_A}\"")), "prefilled");
    assert!(
        html.contains("草稿已保存") || html.contains("草稿"),
        "status shown"
    );

    // Submit: stored and filed.
    let r = post(&web, &page_of(USCC_A), &filled("submit")).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("done=unchanged") || location(&r).ends_with("done=submitted"));
    let (status, body) = stored(&app, USCC_A).await.unwrap();
    assert_eq!((status.as_str(), &body), ("submitted", &want));

    // Certified and assessed by the API: the pages show the API's figures.
    let fed = app.federation(None).await;
    let tax = app.tax(None).await;
    let base = format!("/api/v1/employers/{USCC_A}");
    let (c, _) = app
        .call(
            Method::POST,
            &format!("{base}/declarations/{YEAR}/certify"),
            Some(&fed),
            None,
        )
        .await;
    assert_eq!(c, 200);
    let (c, a) = app
        .call(
            Method::POST,
            &format!("{base}/assessments/{YEAR}"),
            Some(&tax),
            None,
        )
        .await;
    assert_eq!(c, 201, "{a}");
    let levy = a["result"]["levy_payable"].as_str().unwrap().to_owned();
    let html = web
        .get(&format!("/my/{USCC_A}/assessment/{YEAR}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<strong>{levy} 元</strong>")),
        "{html}"
    );
    let steps = a["result"]["explanation"].as_array().unwrap().len();
    let list = html
        .split("<ol class=\"steps\">")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .unwrap_or_default();
    assert_eq!(
        list.matches("<li>").count(),
        steps,
        "every step of the explanation"
    );
    assert!(!html.contains(CERT_A), "the result masks certificates");
    let (_, st) = app
        .call(
            Method::GET,
            &format!("{base}/statements/{YEAR}"),
            Some(&token),
            None,
        )
        .await;
    let html = web
        .get(&format!("/my/{USCC_A}/statement/{YEAR}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(st["outstanding"].as_str().unwrap()), "{html}");
    let print = web
        .get(&format!("/my/{USCC_A}/statement/{YEAR}/notice"))
        .await
        .text()
        .await
        .unwrap();
    assert!(print.contains("缴款通知书") && print.contains(&levy));
    // The notice carries the digest of the assessment's signed receipt and its QR code.
    let receipt: serde_json::Value = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/employers/{USCC_A}/assessments/{YEAR}/receipt"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let digest = receipt["digest"].as_str().unwrap();
    assert!(
        print.contains(&format!("/receipts/{digest}/qr.svg")),
        "{print}"
    );
}

#[tokio::test]
async fn a_fault_is_shown_beside_its_field_and_nothing_is_written() {
    let (app, _, web) = employer_a().await;
    let mut f = filled("save");
    for (k, v) in &mut f {
        if k == "e0_cert" {
            *v = "123".into();
        }
        if k == "total_wages" {
            *v = "lots".into();
        }
    }
    let r = post(&web, &page_of(USCC_A), &f).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    for id in ["f-e0_cert-err", "f-total_wages-err"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}\n{html}");
    }
    assert!(html.contains("aria-describedby=\"f-e0_cert-hint f-e0_cert-err\""));
    // The whole form typed back.
    assert!(
        html.contains("value=\"lots\"")
            && html.contains("value=\"100\"")
            && html.contains("value=\"1-12\"")
    );
    assert!(stored(&app, USCC_A).await.is_none(), "nothing written");
    // Adding a row writes nothing either, and keeps what was typed.
    let mut f = filled("add_row");
    f.retain(|(k, _)| !k.starts_with("e1_"));
    let r = post(&web, &page_of(USCC_A), &f).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"e1_cert\"") && html.contains(&format!("value=\"{CERT_A}\"")));
    assert!(stored(&app, USCC_A).await.is_none());
}

#[tokio::test]
async fn a_forged_form_changes_nothing() {
    let (app, admin, web) = employer_a().await;
    let refs: Vec<(String, String)> = filled("submit");
    let mut fields: Vec<(&str, &str)> =
        refs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = web.post_raw(&page_of(USCC_A), &fields).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("表单已失效"));
    fields.push(("csrf_token", "not-the-token"));
    assert_eq!(web.post_raw(&page_of(USCC_A), &fields).await.status(), 403);
    assert!(stored(&app, USCC_A).await.is_none());
    let contact = format!("/my/{USCC_A}/contact");
    let r = web
        .post_raw(&contact, &[("contact_email", "evil@example.cn")])
        .await;
    assert_eq!(r.status(), 403);
    let upload = multipart(&[
        ("csrf_token", None, b"wrong".to_vec()),
        ("file", Some("r.csv"), b"x".to_vec()),
    ]);
    let r = web_upload(&web, &format!("{}/roster", page_of(USCC_A)), upload).await;
    assert_eq!(r.status(), 403);
    let (_, e) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(e["contact_email"], "hr@example.cn");
    // With the token, the change goes through the API's checks and the audit log.
    let r = web
        .post_form(&contact, &[("contact_email", "not an address")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("id=\"contact_email-error\""));
    let r = web
        .post_form(&contact, &[("contact_email", "new@example.cn")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, e) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{USCC_A}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(e["contact_email"], "new@example.cn");
    let url = app.db_url.clone();
    let audited = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use quota_levy::db::schema::audit_log;
        let db = crate::helpers::open_db(&url);
        audit_log::table
            .filter(audit_log::action.eq("employer.update"))
            .select(audit_log::actor)
            .load::<String>(&mut *db.conn().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(audited.len(), 1);
    assert!(audited[0].contains(USCC_A), "{audited:?}");
}

/// A `multipart/form-data` body of `(name, file name, bytes)` parts.
fn multipart(parts: &[(&str, Option<&str>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file, data) in parts {
        out.extend_from_slice(b"--XyZBoundary\r\n");
        match file {
            Some(f) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => out.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--XyZBoundary--\r\n");
    out
}

async fn web_upload(web: &WebSession, path: &str, body: Vec<u8>) -> reqwest::Response {
    client()
        .post(format!("{}{path}", web_base(web)))
        .header("cookie", &web.cookie)
        .header("content-type", "multipart/form-data; boundary=XyZBoundary")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn web_base(web: &WebSession) -> String {
    web.base().to_owned()
}

#[tokio::test]
async fn the_roster_template_opens_and_a_bad_upload_names_its_row_and_writes_nothing() {
    use calamine::{Reader, Xlsx};
    let (app, _, web) = employer_a().await;
    let r = web.get(&format!("/my/{USCC_A}/roster-template.xlsx")).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[2].contains("示例"), "{names:?}");
    let sheet = wb.worksheet_range(&names[0]).unwrap();
    let headers: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(headers[0], "残疾证号");
    for h in ["在职月份", "是否在编", "月工资（元）", "是否应届高校毕业生"] {
        assert!(headers.iter().any(|x| x == h), "{h} in {headers:?}");
    }
    assert_eq!(
        sheet.rows().count(),
        1,
        "the data sheet has no example rows"
    );

    // A draft to upload into.
    let r = post(&web, &page_of(USCC_A), &filled("save")).await;
    assert_eq!(r.status(), 303);
    let before = stored(&app, USCC_A).await.unwrap();

    let (a, b) = (certificate(501, 3), certificate(502, 2));
    let upload_path = format!("{}/roster", page_of(USCC_A));
    let bad =
        format!("残疾证号,在职月份,劳动合同期限（月）,月工资\n{a},1-12,24,3200\n{b},13,12,\n");
    let r = web_upload(
        &web,
        &upload_path,
        multipart(&[
            ("csrf_token", None, web.csrf.clone().into_bytes()),
            ("file", Some("名单.csv"), bad.into_bytes()),
        ]),
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("<td data-label=\"行\">3</td>"), "{html}");
    assert!(html.contains("在职月份"), "the column is named");
    assert!(
        !html.contains(&b) && !html.contains(&a),
        "certificates are masked"
    );
    assert!(html.contains(&quota_levy::registry::declarations::mask_number(&b)));
    assert_eq!(
        stored(&app, USCC_A).await.unwrap(),
        before,
        "nothing written"
    );

    // A good file replaces the roster of the draft.
    let good =
        format!("残疾证号,在职月份,劳动合同期限（月）,月工资\n{a},1-12,24,3200\n{b},7-12,12,\n");
    let r = web_upload(
        &web,
        &upload_path,
        multipart(&[
            ("csrf_token", None, web.csrf.clone().into_bytes()),
            ("file", Some("名单.csv"), good.into_bytes()),
        ]),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let (status, body) = stored(&app, USCC_A).await.unwrap();
    assert_eq!(status, "draft");
    let lines = body["disabled_employees"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["certificate_no"], b.as_str());
    assert_eq!(lines[1]["months"], json!([7, 8, 9, 10, 11, 12]));
    assert_eq!(body["total_wages"], "7000000.00", "staff and wages kept");

    // The template itself, filled in by a spreadsheet, uploads too.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["残疾证号", "在职月份", "是否足额缴纳社会保险"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, &a).unwrap();
    ws.write_string(1, 1, "1-6").unwrap();
    ws.write_string(1, 2, "否").unwrap();
    let xlsx = wb.save_to_buffer().unwrap();
    let r = web_upload(
        &web,
        &upload_path,
        multipart(&[
            ("csrf_token", None, web.csrf.clone().into_bytes()),
            ("file", Some("r.xlsx"), xlsx),
        ]),
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, body) = stored(&app, USCC_A).await.unwrap();
    assert_eq!(
        body["disabled_employees"][0]["social_insurance_paid"],
        false
    );
}

#[tokio::test]
async fn a_new_year_starts_from_last_years_declaration_with_the_months_cleared() {
    let (app, _, web) = employer_a().await;
    let token = app.employer(USCC_A).await;
    let last = json!({
        "staff": {"average_headcount": "57"},
        "average_wage": "61000",
        "disabled_employees": [{"certificate_no": CERT_A, "months": [1, 2, 3], "contract_months": 24,
                                "fresh_graduate": true}]
    });
    let (s, v) = app
        .call(
            Method::PUT,
            &format!("/api/v1/employers/{USCC_A}/declarations/{}", YEAR - 1),
            Some(&token),
            Some(last),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let html = web.get(&page_of(USCC_A)).await.text().await.unwrap();
    assert!(
        html.contains("已按 2024 年度的申报预填"),
        "the page says so"
    );
    assert!(html.contains("value=\"57\"") && html.contains("value=\"61000\""));
    assert!(html.contains(&format!("value=\"{CERT_A}\"")) && html.contains("value=\"24\""));
    assert!(
        html.contains("name=\"e0_months\" type=\"text\" value=\"\""),
        "months cleared"
    );
    assert!(!html.contains("id=\"f-e0_graduate\" name=\"e0_graduate\" checked"));
    assert!(
        stored(&app, USCC_A).await.is_none(),
        "nothing saved by opening it"
    );
}
