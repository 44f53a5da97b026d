//! The public pages in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, started here on a free port). The calculator is filled in and
//! submitted as a person would (a row added with the form's own button, no script) and
//! must show the API's figures; each page is checked at phone width for sideways
//! scrolling and with axe-core (vendored, MPL-2.0, LICENSE beside it) for accessibility
//! faults, and photographed at 1280 and 390 px into `target/screenshots/`.
//!
//! Without chromedriver (`/usr/bin/chromedriver`, or `QUOTA_LEVY_CHROMEDRIVER`) these
//! tests print a skip line; under `CI=true` they fail instead.

use crate::helpers::{spawn_app, TestApp};
use crate::pages::certificate;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod federation;
mod forecast;
mod funds;
mod impact;
mod my;
mod officers;
mod reset;
mod tax;

const AXE: &str = include_str!("vendor/axe.min.js");

/// A chromedriver process and one browser session, ended on drop.
pub(super) struct Browser {
    client: Option<Client>,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn driver_path() -> Option<PathBuf> {
    let path = std::env::var("QUOTA_LEVY_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

/// The browser, or `None` (with a skip line) where there is none outside CI.
pub(super) async fn browser(test: &str) -> Option<Browser> {
    let Some(path) = driver_path() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: chromedriver is missing under CI (apt-get install chromium chromium-driver)"
        );
        eprintln!("SKIP {test}: no chromedriver (install chromium and chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let driver = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let mut b = Browser {
        client: None,
        driver,
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--window-size=1280,900", "--lang=zh-CN"],
            "prefs": {"intl.accept_languages": "zh-CN,zh"}
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    b.client = Some(client);
    Some(b)
}

impl Browser {
    pub(super) fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    pub(super) async fn width(&self, w: u32) {
        self.c().set_window_size(w, 900).await.unwrap();
    }

    /// Fails on any accessibility fault axe-core finds on the page shown.
    pub(super) async fn axe(&self, page: &str) {
        let c = self.c();
        let loaded = c
            .execute(
                &format!("{AXE}\n;return typeof axe !== 'undefined';"),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(loaded, json!(true), "axe-core did not load on {page}");
        let out = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                       help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))
                   .catch(e => done([{id: 'axe-error', help: String(e)}]));",
                vec![],
            )
            .await
            .unwrap();
        let faults = out.as_array().cloned().unwrap_or_default();
        assert!(
            faults.is_empty(),
            "{page}: accessibility faults:\n{}",
            serde_json::to_string_pretty(&out).unwrap()
        );
    }

    /// Fails when the page scrolls sideways at the window's width.
    pub(super) async fn fits(&self, page: &str) {
        let v = self
            .c()
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
        assert!(
            scroll <= inner,
            "{page}: {scroll} px wide in a {inner} px window"
        );
    }

    /// The whole page as a PNG at `width`, under target/screenshots/.
    pub(super) async fn shoot(&self, name: &str, width: u32) {
        let c = self.c();
        c.set_window_size(width, 900).await.unwrap();
        let h = c
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900);
        c.set_window_size(width, (h as u32).clamp(600, 8000))
            .await
            .unwrap();
        let png = c.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
        c.set_window_size(width, 900).await.unwrap();
    }

    /// The page shown, as it is (not loaded again: it may be the answer to a form),
    /// checked at 1280 and 390 px for sideways scrolling and with axe-core, and
    /// photographed at both widths.
    pub(super) async fn check(&self, name: &str) {
        self.width(1280).await;
        self.fits(name).await;
        self.axe(name).await;
        self.shoot(name, 1280).await;
        self.width(390).await;
        self.fits(&format!("{name} at 390 px")).await;
        self.axe(&format!("{name} at 390 px")).await;
        self.shoot(name, 390).await;
        self.width(1280).await;
    }

    pub(super) async fn fill(&self, name: &str, value: &str) {
        let e = self
            .c()
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .unwrap_or_else(|e| panic!("no field {name}: {e}"));
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Clicks the element at `css` and waits until the page it submits to has loaded:
    /// a mark set on the old page is gone and the new one is complete. Reading right
    /// after the click would read the old page under load.
    pub(super) async fn click_through(&self, css: &str) {
        let c = self.c();
        c.execute("window.__qlOld = true;", vec![]).await.unwrap();
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let loaded = c
                .execute(
                    "return window.__qlOld === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if loaded {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the page after {css} did not load"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(super) async fn text_of(&self, css: &str) -> String {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
    }
}

async fn api(app: &TestApp, request: &Value) -> Value {
    let r = app
        .client
        .post(app.url("/api/v1/levy/calculate"))
        .json(request)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn browser_calculator_filled_in_gives_the_api_figures() {
    let Some(b) = browser("browser_calculator_filled_in_gives_the_api_figures").await else {
        return;
    };
    let app = spawn_app().await;
    let c = b.c();
    c.goto(&app.url("/calculator")).await.unwrap();
    c.find(Locator::Css("#f-region"))
        .await
        .unwrap()
        .select_by_value("411202")
        .await
        .unwrap();
    b.fill("levy_year", "2025").await;
    c.find(Locator::Css("#f-kind"))
        .await
        .unwrap()
        .select_by_value("public_institution")
        .await
        .unwrap();
    let months = [150, 150, 152, 152, 155, 155, 160, 160, 160, 158, 158, 158];
    for (i, m) in months.iter().enumerate() {
        b.fill(&format!("m{}", i + 1), &m.to_string()).await;
    }
    b.fill("total_wages", "9650000.00").await;
    let (a, bb) = (certificate(501, 3), certificate(502, 2));
    b.fill("e0_cert", &a).await;
    b.fill("e0_months", "1-12").await;
    b.fill("e0_contract", "24").await;
    b.fill("e0_wage", "3200").await;
    // The form's own button adds a row, the form kept as typed.
    b.click_through("button[value=\"add_row\"]").await;
    let rows = c.find_all(Locator::Css("fieldset.row")).await.unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        c.find(Locator::Css("[name=\"e0_cert\"]"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(a.as_str())
    );
    b.fill("e3_cert", &bb).await;
    b.fill("e3_months", "7-12").await;
    b.fill("e3_contract", "12").await;
    b.click_through("button.primary").await;

    let want = api(
        &app,
        &json!({
            "region": "411202", "levy_year": 2025,
            "employer": {"kind": "public_institution"},
            "staff": {"monthly_headcount": months},
            "total_wages": "9650000.00",
            "disabled_employees": [
                {"certificate_no": a, "months": (1..=12).collect::<Vec<u32>>(), "contract_months": 24,
                 "monthly_wage": "3200"},
                {"certificate_no": bb, "months": (7..=12).collect::<Vec<u32>>(), "contract_months": 12}
            ]
        }),
    )
    .await;
    let levy = b.text_of("tr.main td.n").await;
    assert_eq!(levy, want["levy_payable"].as_str().unwrap());
    let cells = c
        .find_all(Locator::Css("table.figures td.n"))
        .await
        .unwrap();
    let mut shown = Vec::new();
    for cell in cells {
        shown.push(cell.text().await.unwrap());
    }
    for key in [
        "average_headcount",
        "required",
        "disabled_counted",
        "shortfall",
        "fee_due",
        "reduction",
    ] {
        let v = want[key].as_str().unwrap();
        assert!(shown.iter().any(|s| s == v), "{key} {v} not in {shown:?}");
    }
    let steps = c.find_all(Locator::Css("ol.steps li")).await.unwrap();
    assert_eq!(steps.len(), want["explanation"].as_array().unwrap().len());
    b.fits("calculator result").await;
    b.axe("calculator result").await;
    b.shoot("calculator-result", 1280).await;
    b.width(390).await;
    b.fits("calculator result at 390 px").await;
    b.shoot("calculator-result", 390).await;

    // The link to keep opens the same result.
    let href = c
        .find(Locator::Css(".result a[href^=\"/calculator?request=\"]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&app.url(&href)).await.unwrap();
    assert_eq!(b.text_of("tr.main td.n").await, levy);

    // A fault shows beside its field, and the page stays accessible.
    b.width(1280).await;
    b.fill("e0_cert", "123").await;
    b.click_through("button.primary").await;
    let err = b.text_of("#f-e0_cert-err").await;
    assert!(!err.is_empty());
    b.axe("calculator with a fault").await;
    b.shoot("calculator-fault", 1280).await;
    b.c().clone().close().await.unwrap();
}

#[tokio::test]
async fn browser_pages_fit_a_phone_and_pass_axe() {
    let Some(b) = browser("browser_pages_fit_a_phone_and_pass_axe").await else {
        return;
    };
    let app = spawn_app().await;
    for (name, path) in [
        ("home", "/"),
        ("home-en", "/?lang=en&region=440300"),
        ("calculator", "/calculator"),
        ("calculator-en", "/calculator?lang=en"),
    ] {
        b.c().goto(&app.url(path)).await.unwrap();
        b.width(1280).await;
        b.fits(name).await;
        b.axe(name).await;
        b.shoot(name, 1280).await;
        b.width(390).await;
        b.fits(&format!("{name} at 390 px")).await;
        b.axe(&format!("{name} at 390 px")).await;
        b.shoot(name, 390).await;
    }
    b.c().clone().close().await.unwrap();
}
