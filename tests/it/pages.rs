//! The public pages over plain HTTP: the home page's deadlines are the packs', the
//! calculator page's figures are the API's for the same request (generated requests,
//! region, kind, staff and roster varied), faults land beside their fields, "add a row"
//! works without script, and a result page stays light.

use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn get(app: &TestApp, path: &str, lang: &str) -> (u16, String) {
    let r = app
        .client
        .get(app.url(path))
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn api(app: &TestApp, request: &Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/levy/calculate"))
        .header("Accept-Language", "zh-CN")
        .json(request)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The levy payable a result page shows (the strong row of its figures).
fn page_levy(html: &str) -> Option<String> {
    let row = html.split("<tr class=\"main\">").nth(1)?;
    let cell = row.split("<td class=\"n\">").nth(1)?;
    Some(cell.split('<').next()?.to_owned())
}

/// The figure cells of a result page.
fn page_figures(html: &str) -> Vec<String> {
    html.split("<td class=\"n\">")
        .skip(1)
        .filter_map(|c| c.split('<').next())
        .map(str::to_owned)
        .collect()
}

fn link_for(request: &Value) -> String {
    let text = serde_json::to_string(request).unwrap();
    let encoded: String =
        percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    format!("/calculator?request={encoded}")
}

/// A valid disability certificate number for test person `n` (made-up ID, its check
/// character computed), grade `grade`.
pub fn certificate(n: u32, grade: u8) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("41120219800101{:03}", n % 1000);
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = char::from(b"10X98765432"[(sum % 11) as usize]);
    format!("{body}{check}1{grade}")
}

/// A small deterministic generator (xorshift), so that a failing case is the same on
/// every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn generated(g: &mut Gen, i: u32) -> Value {
    let regions = [
        "411200", "411202", "411282", "410000", "110000", "440300", "130000",
    ];
    let kinds = [
        "enterprise",
        "government_agency",
        "public_institution",
        "social_organization",
        "private_non_enterprise",
    ];
    let region = regions[g.next(regions.len() as u64) as usize];
    let mut req = json!({
        "region": region,
        "levy_year": 2024 + g.next(2) as i64,
        "employer": {"kind": kinds[g.next(kinds.len() as u64) as usize]},
        // Outside Henan the packs may lack the social average wage: the what-if gives it.
        "overrides": {"social_average_wage": "120000.00"},
    });
    let staff = 20 + g.next(400);
    if g.next(2) == 0 {
        req["staff"] = json!({"average_headcount": staff.to_string()});
    } else {
        let months: Vec<u64> = (0..12).map(|_| staff + g.next(10)).collect();
        req["staff"] = json!({"monthly_headcount": months});
    }
    req["total_wages"] = json!(format!("{}.00", staff * (40_000 + g.next(60_000))));
    match g.next(3) {
        0 => {}
        1 => req["disabled_count"] = json!(format!("{}.5", g.next(4))),
        _ => {
            let roster: Vec<Value> = (0..1 + g.next(3))
                .map(|k| {
                    let from = 1 + g.next(12);
                    json!({
                        "certificate_no": certificate(i * 10 + k as u32, 1 + g.next(4) as u8),
                        "months": (from..=12).collect::<Vec<u64>>(),
                        "contract_months": 6 + g.next(30),
                        "monthly_wage": format!("{}", 1500 + g.next(3000)),
                    })
                })
                .collect();
            req["disabled_employees"] = json!(roster);
        }
    }
    req
}

#[tokio::test]
async fn pages_calculator_links_show_the_api_levy_for_generated_requests() {
    let app = spawn_app().await;
    let mut g = Gen(0x5eed_1234_abcd_0001);
    let mut results = 0;
    for i in 0..12 {
        let req = generated(&mut g, i);
        let (api_status, body) = api(&app, &req).await;
        let (status, html) = get(&app, &link_for(&req), "zh-CN").await;
        // Faults come back as the form with them, for a person to correct.
        assert_eq!(status, 200, "{req}\n{body}");
        if api_status == 200 {
            results += 1;
            let levy = body["levy_payable"].as_str().unwrap();
            assert_eq!(page_levy(&html).as_deref(), Some(levy), "{req}");
            let figures = page_figures(&html);
            for key in [
                "average_headcount",
                "required",
                "disabled_counted",
                "shortfall",
                "fee_due",
                "reduction",
            ] {
                let want = body[key].as_str().unwrap();
                assert!(
                    figures.iter().any(|f| f == want),
                    "{key} {want} not among {figures:?}"
                );
            }
            for step in body["explanation"].as_array().unwrap() {
                let text = step["text"].as_str().unwrap();
                let escaped = text
                    .replace('&', "&#38;")
                    .replace('<', "&#60;")
                    .replace('>', "&#62;")
                    .replace('"', "&#34;")
                    .replace('\'', "&#39;");
                assert!(html.contains(&escaped), "step missing: {text}");
            }
        } else {
            for e in body["errors"].as_array().unwrap() {
                let message = e["detail"].as_str().unwrap();
                assert!(html.contains(message), "{message} not on the page");
            }
        }
    }
    assert!(results >= 8, "most generated requests calculate: {results}");
}

#[tokio::test]
async fn pages_what_would_change_is_the_api_with_one_more_employee() {
    let app = spawn_app().await;
    let req = json!({
        "region": "411200",
        "levy_year": 2025,
        "employer": {"kind": "enterprise"},
        "staff": {"average_headcount": "250"},
        "average_wage": "70000.00",
        "disabled_employees": [{"certificate_no": certificate(1, 3), "months": [1,2,3,4,5,6],
                                "contract_months": 12}]
    });
    let (_, html) = get(&app, &link_for(&req), "zh-CN").await;
    let (_, base) = api(&app, &req).await;
    for month in [1u64, 4, 7, 10] {
        let mut more = req.clone();
        more["disabled_employees"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "certificate_no": certificate(2, 3),
                "months": (month..=12).collect::<Vec<u64>>(),
                "contract_months": 12,
            }));
        let (status, after) = api(&app, &more).await;
        assert_eq!(status, 200, "{after}");
        let before: rust_decimal::Decimal = base["levy_payable"].as_str().unwrap().parse().unwrap();
        let then: rust_decimal::Decimal = after["levy_payable"].as_str().unwrap().parse().unwrap();
        assert!(then < before);
        let line = format!(
            "自 2024 年 {month} 月起：应缴减少 <strong>{} 元</strong>，为 {} 元。",
            (before - then).round_dp(2),
            after["levy_payable"].as_str().unwrap()
        );
        assert!(html.contains(&line), "{line}");
    }
}

#[tokio::test]
async fn pages_home_shows_the_packs_deadlines_in_either_language() {
    let app = spawn_app().await;
    let (status, html) = get(&app, "/", "zh-CN").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    for href in ["/calculator", "/login", "/notices"] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    // The dates are those the policy endpoint gives for the same region and year.
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let as_of = format!("{year}-06-30");
    let view: Value = app
        .client
        .get(app.url(&format!("/api/v1/policies/411202?as_of={as_of}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let param = |k: &str| {
        view["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == k)
            .unwrap()["value"]
            .clone()
    };
    let due = chrono::NaiveDate::parse_from_str(param("payment_due").as_str().unwrap(), "%Y-%m-%d")
        .unwrap();
    let (status, en) = get(&app, "/?region=411202&lang=en", "zh-CN").await;
    assert_eq!(status, 200);
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Hubin District"), "{en}");
    assert!(en.contains(&due.format("%-d %B %Y").to_string()), "{en}");
    // The switch keeps the region; the page's links keep the chosen language.
    assert!(en.contains("href=\"/?region=411202&#38;lang=zh\""), "{en}");
    assert!(en.contains("href=\"/calculator?lang=en\""));
    let (status, zh) = get(&app, "/?region=411202", "zh-CN").await;
    assert_eq!(status, 200);
    let d = chrono::Datelike::day(&due);
    let m = chrono::Datelike::month(&due);
    assert!(zh.contains(&format!("{year}年{m}月{d}日")), "{zh}");

    let (status, bad) = get(&app, "/?region=999999", "zh-CN").await;
    assert_eq!(status, 200);
    assert!(bad.contains("id=\"region-error\""));
    assert!(bad.contains("aria-describedby=\"region-error\""));
}

#[tokio::test]
async fn pages_faults_land_beside_their_fields_and_add_row_needs_no_script() {
    let app = spawn_app().await;
    let form = [
        ("region", "411200"),
        ("levy_year", "2025"),
        ("kind", "enterprise"),
        ("average_headcount", "120"),
        ("total_wages", "abc"),
        ("e0_shown", "1"),
        ("e0_insurance", "on"),
        ("e1_shown", "1"),
        ("e1_cert", "12345"),
        ("e1_months", "1-12"),
        ("e1_insurance", "on"),
        ("action", "calculate"),
    ];
    let r = app
        .client
        .post(app.url("/calculator"))
        .header("Accept-Language", "zh-CN")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"faults\""));
    // Row 1 of the form is employee 0 of the request: the fault is shown at row 1.
    for id in ["f-e1_cert-err", "f-total_wages-err"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}\n{html}");
    }
    assert!(
        html.contains("aria-describedby=\"f-e1_cert-hint f-e1_cert-err\" aria-invalid=\"true\"")
    );
    assert!(html.contains("<a href=\"#f-e1_cert\">"));
    assert!(!html.contains("id=\"f-e0_cert-err\""));
    assert!(!html.contains("class=\"result\""));
    // What was typed is kept.
    assert!(html.contains("value=\"12345\""));

    let r = app
        .client
        .post(app.url("/calculator"))
        .form(&[
            ("e0_shown", "1"),
            ("e1_shown", "1"),
            ("e1_cert", "x"),
            ("action", "add_row"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"e2_cert\""));
    assert!(!html.contains("name=\"e3_cert\""));
    assert!(html.contains("value=\"x\""));
    assert!(!html.contains("class=\"faults\""));
}

#[tokio::test]
async fn pages_every_input_is_labelled_and_a_result_page_is_light() {
    let app = spawn_app().await;
    let req = generated(&mut Gen(7), 1);
    let (status, html) = get(&app, &link_for(&req), "zh-CN").await;
    assert_eq!(status, 200, "{html}");
    let mut inputs = 0;
    for part in html
        .split("<input")
        .skip(1)
        .chain(html.split("<select").skip(1))
    {
        let tag = part.split('>').next().unwrap();
        if tag.contains("type=\"hidden\"") {
            continue;
        }
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("control without id: {tag}"));
        if tag.contains("aria-hidden=\"true\"") {
            continue;
        }
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "{id} has no label"
        );
        inputs += 1;
    }
    assert!(inputs > 40, "{inputs}");
    let css = app
        .client
        .get(app.url("/static/site.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let weight = html.len() + css.len();
    assert!(
        weight < 100 * 1024,
        "page and stylesheet weigh {weight} bytes"
    );
    assert!(!html.contains("<script"), "the pages need no script");
}
