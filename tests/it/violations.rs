//! The violator list: officers only, figures and citations, filters, and never a
//! certificate or ID number in JSON or CSV.

use crate::helpers::violators::{assessed_region, in_memory};
use crate::helpers::web::{person, sign_in, WebSession};
use crate::helpers::{assessed_10000, declaration_body, uscc_with_check, CERT_A};
use quota_levy::auth::Role;
use quota_levy::domain::EmployerKind;
use quota_levy::registry::violations::{csv_line, ViolationKind, ViolationRow, CSV_HEADER};
use reqwest::Method;
use serde_json::{json, Value};

async fn get_json(app: &crate::helpers::TestApp, path: &str, token: &str) -> Value {
    let r = app.send(Method::GET, path, Some(token), None).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn overdue_public_body_labour_and_filters() {
    let (app, emp, _tax) = assessed_10000().await;
    let admin = app.token(Role::Admin, None, None).await;
    let inspector = app.token(Role::Inspector, None, None).await;

    // An employer may not read the list.
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025",
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);

    // A public institution in 三门峡 with an establishment of 70 and nobody disabled.
    let school = uscc_with_check("12411200MB0000001");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": school, "name": "示例事业单位", "kind": "public_institution",
                        "region": "411202", "establishment_size": 70}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // An enterprise whose disabled employee has no social insurance.
    let firm = uscc_with_check("91411200MA0000002");
    let r = app
        .send(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": firm, "name": "社保公司", "kind": "enterprise", "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    let firm_token = app.token(Role::Employer, Some(&firm), None).await;
    let mut body = declaration_body();
    body["disabled_employees"][0]["social_insurance_paid"] = json!(false);
    let decl = format!("/api/v1/employers/{firm}/declarations/2025");
    let r = app
        .send(Method::PUT, &decl, Some(&firm_token), Some(body))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = app
        .send(
            Method::POST,
            &format!("{decl}/submit"),
            Some(&firm_token),
            None,
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let v = get_json(
        &app,
        "/api/v1/violations?levy_year=2025&as_of=2026-01-30",
        &inspector,
    )
    .await;
    let items = v["items"].as_array().unwrap();
    // Sorted by amount outstanding: the overdue employer comes first.
    assert_eq!(items[0]["uscc"], "91350100M000100Y43", "{v}");
    let overdue = items
        .iter()
        .find(|i| i["violation"] == "overdue")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(overdue["outstanding"], "11500.00");
    assert_eq!(
        overdue["why_en"],
        "below quota: payable 10,000.00, paid 0.00, principal outstanding 10,000.00, 30 days past due 2025-12-31, surcharge 1,500.00"
    );
    assert!(overdue["why_zh"]
        .as_str()
        .unwrap()
        .contains("滞纳金 1,500.00"));
    assert!(overdue["citation"]
        .as_str()
        .unwrap()
        .contains("残疾人就业条例; 财税〔2015〕72号"));
    // Its debt is on that one row: the list never counts it twice.
    assert!(!items
        .iter()
        .any(|i| i["violation"] == "below_quota_unpaid" && i["uscc"] == "91350100M000100Y43"));
    let listed: rust_decimal::Decimal = items
        .iter()
        .map(|i| {
            i["outstanding"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        listed.to_string(),
        "11500.00",
        "the column sums to the debt: {v}"
    );

    let public = items
        .iter()
        .find(|i| i["violation"] == "public_body_without_disabled_employee")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(public["uscc"], school.as_str());
    assert!(
        public["why_en"].as_str().unwrap().contains("threshold 63"),
        "{public}"
    );
    assert!(public["citation"]
        .as_str()
        .unwrap()
        .contains("残联发〔2021〕51号"));

    let si = items
        .iter()
        .find(|i| i["violation"] == "no_social_insurance")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(si["uscc"], firm.as_str());
    assert!(si["why_en"]
        .as_str()
        .unwrap()
        .starts_with("1 of 1 roster lines"));
    assert!(si["citation"]
        .as_str()
        .unwrap()
        .contains("三政〔2016〕23号 §3(4)"));

    // No certificate or ID number anywhere.
    let text = v.to_string();
    assert!(!text.contains(CERT_A));
    assert!(!text.contains(&CERT_A[..18]));

    // The kind filter.
    let v = get_json(
        &app,
        "/api/v1/violations?levy_year=2025&as_of=2026-01-30&kind=overdue",
        &inspector,
    )
    .await;
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["items"][0]["violation"], "overdue");
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025&kind=bogus",
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(r.status(), 422);

    // A token scoped to another region sees nothing of 411202, and may not ask for it.
    let zz = app.token(Role::Inspector, None, Some("410100")).await;
    let v = get_json(
        &app,
        "/api/v1/violations?levy_year=2025&as_of=2026-01-30",
        &zz,
    )
    .await;
    assert_eq!(v["total"], 0, "{v}");
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025&region=411202",
            Some(&zz),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);

    // CSV: BOM, Chinese header, no certificate or ID number.
    let r = app
        .send(
            Method::GET,
            "/api/v1/violations?levy_year=2025&as_of=2026-01-30&format=csv",
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("统一社会信用代码"));
    assert!(text.contains("11500.00"));
    assert!(text.contains("no_social_insurance"));
    assert!(!text.contains(CERT_A));
    assert!(!text.contains(&CERT_A[..18]));
}

/// The date the demonstration region is judged on: a month after the due date of 2025.
const AS_OF: &str = "2026-01-30";

/// One employer as the former in-memory list grouped it: USCC, kind of employer, amount
/// owed and its kinds of violation, in the list's order.
struct Listed {
    uscc: String,
    public_body: bool,
    owed: rust_decimal::Decimal,
    kinds: Vec<ViolationKind>,
}

/// The employers of the former in-memory rows (sorted by amount owed, then USCC, then
/// kind, so that an employer's rows are together).
fn grouped(rows: &[ViolationRow]) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(l) if l.uscc == r.uscc => l.kinds.push(r.violation),
            _ => out.push(Listed {
                uscc: r.uscc.clone(),
                public_body: r
                    .kind
                    .parse::<EmployerKind>()
                    .is_ok_and(|k| k.is_public_body()),
                owed: r.outstanding_value,
                kinds: vec![r.violation],
            }),
        }
    }
    out
}

/// The next page's link of an inspector page, unescaped.
fn next_href(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let head = &html[..at];
    let start = head.rfind("href=\"")? + "href=\"".len();
    let end = head[start..].find('"')? + start;
    Some(head[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Every page of the inspector's list from `first`, following its "next" links: the
/// USCCs shown, in order, and the number of employers the first page announced.
async fn walk_pages(s: &WebSession, first: &str) -> (Vec<String>, usize, usize) {
    let mut path = first.to_owned();
    let (mut seen, mut pages, mut announced) = (Vec::new(), 0, None);
    loop {
        let r = s.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        pages += 1;
        if announced.is_none() {
            let n = html
                .split("共 ")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok());
            announced = Some(n.unwrap_or_else(|| panic!("no total on {path}: {html}")));
        }
        for piece in html.split("<span class=\"uscc\">").skip(1) {
            let end = piece.find("</span>").unwrap();
            seen.push(piece[..end].to_owned());
        }
        match next_href(&html) {
            Some(h) => path = h,
            None => break,
        }
        assert!(pages < 50, "the pages do not end: {path}");
    }
    (seen, pages, announced.unwrap_or(0))
}

#[tokio::test]
async fn the_inspector_pages_walk_every_violator_once_under_each_filter() {
    let app = crate::helpers::spawn_app().await;
    assessed_region(&app, 300, 11).await;
    person(&app, "insp", Role::Inspector, None, None).await;
    let insp = sign_in(&app, "insp").await;
    let all = grouped(&in_memory(&app, "4112", AS_OF, None).await);
    assert!(all.len() > 100, "the fixture spans pages: {}", all.len());
    let county = grouped(&in_memory(&app, "411202", AS_OF, None).await);
    let five_thousand = rust_decimal::Decimal::new(5000, 0);

    type Keep = fn(&Listed) -> bool;
    let cases: [(&str, &[Listed], Keep); 6] = [
        ("", &all, |_| true),
        ("&kind=overdue", &all, |l| {
            l.kinds.contains(&ViolationKind::Overdue)
        }),
        ("&min=5000", &all, |l| {
            l.owed >= rust_decimal::Decimal::new(5000, 0)
        }),
        ("&max=0", &all, |l| l.owed.is_zero()),
        ("&public=1", &all, |l| l.public_body),
        ("&county=411202&kind=overdue&max=50000.5", &county, |l| {
            l.kinds.contains(&ViolationKind::Overdue)
                && l.owed <= rust_decimal::Decimal::new(500005, 1)
        }),
    ];
    for (filters, base, keep) in cases {
        let expected: Vec<&str> = base
            .iter()
            .filter(|l| keep(l))
            .map(|l| l.uscc.as_str())
            .collect();
        let (seen, pages, announced) = walk_pages(
            &insp,
            &format!("/inspector?levy_year=2025&as_of={AS_OF}{filters}"),
        )
        .await;
        assert_eq!(seen, expected, "every violator once, in order: {filters}");
        assert_eq!(announced, expected.len(), "the count: {filters}");
        assert_eq!(pages, expected.len().div_ceil(50).max(1), "{filters}");
    }
    assert!(
        all.iter().filter(|l| l.owed >= five_thousand).count() > 50,
        "the amount filter spans pages too"
    );
    assert!(all.iter().any(|l| l.owed.is_zero()), "some owe nothing");
}

#[tokio::test]
async fn the_streamed_list_is_the_in_memory_list_and_follows_the_register() {
    let app = crate::helpers::spawn_app().await;
    assessed_region(&app, 120, 5).await;
    let inspector = app.token(Role::Inspector, None, None).await;
    let tax = app.token(Role::Tax, None, None).await;
    let csv_of = |rows: &[ViolationRow]| {
        let mut s = format!("\u{feff}{}\r\n", CSV_HEADER.join(","));
        for r in rows {
            s.push_str(&csv_line(r));
        }
        s
    };
    for round in 0..2 {
        for kind in [None, Some(ViolationKind::Overdue)] {
            let expected = in_memory(&app, "4112", AS_OF, kind).await;
            assert!(expected.len() > 40, "round {round}: {}", expected.len());
            let k = kind.map_or(String::new(), |k| format!("&kind={}", k.as_str()));
            let base = format!("/api/v1/violations?levy_year=2025&as_of={AS_OF}&region=411200{k}");
            let r = app
                .send(
                    Method::GET,
                    &format!("{base}&format=csv"),
                    Some(&inspector),
                    None,
                )
                .await;
            assert_eq!(r.status(), 200);
            let text = r.text().await.unwrap();
            assert_eq!(text, csv_of(&expected), "round {round}, {k}");
            // JSON pages of seven rows, cut anywhere in an employer's rows.
            let mut items = Vec::new();
            for page in 1.. {
                let v = get_json(&app, &format!("{base}&per_page=7&page={page}"), &inspector).await;
                assert_eq!(v["total"], expected.len(), "{v}");
                let got = v["items"].as_array().unwrap();
                if got.is_empty() {
                    break;
                }
                items.extend(got.iter().cloned());
            }
            assert_eq!(
                Value::Array(items),
                serde_json::to_value(&expected).unwrap(),
                "round {round}, {k}"
            );
        }
        // The first debtor pays its principal: the stored list is decided again.
        let paid = largest_debtor_pays(&app, &tax, &format!("round-{round}")).await;
        let after = in_memory(&app, "4112", AS_OF, None).await;
        assert!(
            !after
                .iter()
                .any(|r| r.uscc == paid && r.violation == ViolationKind::Overdue),
            "its principal is paid"
        );
    }
}

/// The inspector's page at `path` (200).
async fn page_text(s: &WebSession, path: &str) -> String {
    let r = s.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// The largest debtor of the list of 2025 on [`AS_OF`] pays its principal.
async fn largest_debtor_pays(app: &crate::helpers::TestApp, tax: &str, key: &str) -> String {
    let first = in_memory(app, "4112", AS_OF, Some(ViolationKind::Overdue)).await;
    let debtor = &first[0];
    let amount = debtor
        .why_en
        .split("principal outstanding ")
        .nth(1)
        .and_then(|t| t.split(", ").next())
        .unwrap_or_else(|| panic!("{}", debtor.why_en))
        .replace(',', "");
    let r = app
        .client
        .post(app.url(&format!("/api/v1/employers/{}/payments/2025", debtor.uscc)))
        .bearer_auth(tax)
        .header("Idempotency-Key", key)
        .json(&json!({"amount": amount, "paid_on": "2026-01-10", "reference": "ICBC-0003"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{amount}: {}", r.text().await.unwrap());
    debtor.uscc.clone()
}

#[tokio::test]
async fn after_a_write_the_page_answers_from_the_kept_list_while_the_next_is_decided() {
    let app = crate::helpers::spawn_app().await;
    assessed_region(&app, 60, 13).await;
    person(&app, "insp", Role::Inspector, None, None).await;
    let insp = sign_in(&app, "insp").await;
    let tax = app.token(Role::Tax, None, None).await;
    let path = format!("/inspector?levy_year=2025&as_of={AS_OF}&kind=overdue");
    let uscc = |u: &str| format!("<span class=\"uscc\">{u}</span>");
    let stale_zh = |h: &str| h.contains("名单按 ") && h.contains(" 的登记情况判定，正在更新");
    let stale_en =
        |h: &str| h.contains("Decided on the register as of ") && h.contains("being updated");

    // No list kept yet: decided on the request, current.
    let before = in_memory(&app, "4112", AS_OF, Some(ViolationKind::Overdue)).await;
    let html = page_text(&insp, &path).await;
    assert!(!stale_zh(&html), "{html}");
    assert!(html.contains(&uscc(&before[0].uscc)), "{html}");

    // A write: the next page answers at once from the list kept, and says so.
    let paid = largest_debtor_pays(&app, &tax, "stale-1").await;
    let html = page_text(&insp, &path).await;
    assert!(stale_zh(&html), "{html}");
    assert!(
        html.contains(&uscc(&paid)),
        "the kept list still has it: {html}"
    );
    // Until the list decided in the background is kept; then the register as it is.
    let html = insp.page_once(&path, |h| !stale_zh(h)).await;
    assert!(
        !html.contains(&uscc(&paid)),
        "its principal is paid: {html}"
    );
    let now = in_memory(&app, "4112", AS_OF, Some(ViolationKind::Overdue)).await;
    assert!(html.contains(&uscc(&now[0].uscc)), "{html}");

    // Another write, in English; the download waits for the list of the register now.
    let paid = largest_debtor_pays(&app, &tax, "stale-2").await;
    let html = page_text(&insp, &format!("{path}&lang=en")).await;
    assert!(stale_en(&html), "{html}");
    assert!(html.contains(&uscc(&paid)), "{html}");
    let r = insp
        .get(&format!(
            "/inspector/violations.csv?levy_year=2025&as_of={AS_OF}&kind=overdue"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    let after = in_memory(&app, "4112", AS_OF, Some(ViolationKind::Overdue)).await;
    assert!(!csv.contains(&paid), "the file is of the register now");
    assert!(csv.contains(&after[0].uscc), "{csv}");
    let html = page_text(&insp, &path).await;
    assert!(
        !stale_zh(&html),
        "the download kept the current list: {html}"
    );
    assert!(!html.contains(&uscc(&paid)), "{html}");
}
