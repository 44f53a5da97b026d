//! Over-quota rewards from figure to payout (docs/rules.md §7): the rewards roll equals
//! the engine's figures, an approved reward is paid once under a replayed request, a
//! re-assessment after approval puts it under review, a refused reward is never paid.

use crate::helpers::{spawn_app_with, uscc_with_check, TestApp};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// The shipped packs, with a social average wage of Guizhou for data year 2024 (the
/// wage cap needs one; the shipped pack has none yet), in a folder of their own.
pub fn packs_with_guizhou_wage() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/policies");
    for entry in std::fs::read_dir(from).expect("packs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let mut text = std::fs::read_to_string(&path).expect("pack");
            if path.file_name().is_some_and(|n| n == "520000-guizhou.toml") {
                text.push_str(
                    "\n[[social_average_wage]]\ndata_year = 2024\nseries = \"weighted\"\n\
                     value = 90000\ncitation = \"test figure\"\nconfidence = \"choice\"\n",
                );
            }
            std::fs::write(dir.path().join(path.file_name().expect("name")), text).expect("write");
        }
    }
    dir
}

/// A Guizhou (黔残联发〔2021〕11号: 2,000 yuan per whole extra person) app.
pub struct Guizhou {
    pub _packs: tempfile::TempDir,
    pub app: TestApp,
    pub admin: String,
    pub fed: String,
    pub tax: String,
}

impl Guizhou {
    /// The reward of `uscc` for 2025 as `token` reads it: status and body.
    pub async fn reward(&self, uscc: &str, token: &str) -> (u16, Value) {
        self.app
            .call(
                Method::GET,
                &format!("/api/v1/rewards/{uscc}/2025"),
                Some(token),
                None,
            )
            .await
    }

    pub async fn new() -> Guizhou {
        let packs = packs_with_guizhou_wage();
        let dir = packs.path().to_string_lossy().into_owned();
        let app = spawn_app_with(&[
            ("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false"),
            ("QUOTA_LEVY__POLICY__DIR", &dir),
        ])
        .await;
        let admin = app.token(Role::Admin, None, None).await;
        let fed = app.token(Role::Federation, None, None).await;
        let tax = app.token(Role::Tax, None, None).await;
        Guizhou {
            _packs: packs,
            app,
            admin,
            fed,
            tax,
        }
    }

    /// Registers an employer in 贵阳市南明区 and assesses its 2025 levy with `disabled`
    /// certified disabled employees among 100 staff; returns the assessment's result.
    pub async fn assessed(&self, uscc: &str, kind: &str, disabled: &str) -> Value {
        let (s, _) = self
            .app
            .call(
                Method::POST,
                "/api/v1/employers",
                Some(&self.admin),
                Some(
                    json!({"uscc": uscc, "name": format!("贵阳{uscc}"), "kind": kind,
                            "region": "520102", "contact_email": "hr@example.cn"}),
                ),
            )
            .await;
        assert!(s == 201 || s == 409, "{s}");
        self.reassess(uscc, disabled).await
    }

    /// Declares `disabled` (again) and assesses.
    pub async fn reassess(&self, uscc: &str, disabled: &str) -> Value {
        let emp = self.app.employer(uscc).await;
        let decl = format!("/api/v1/employers/{uscc}/declarations/2025");
        let body = json!({"staff": {"average_headcount": "100"}, "average_wage": "90000.00",
                          "disabled_count": disabled});
        let (s, v) = self
            .app
            .call(Method::PUT, &decl, Some(&emp), Some(body))
            .await;
        assert!(s == 200 || s == 201, "{s} {v}");
        self.app
            .send(Method::POST, &format!("{decl}/submit"), Some(&emp), None)
            .await;
        let (s, a) = self
            .app
            .call(
                Method::POST,
                &format!("/api/v1/employers/{uscc}/assessments/2025"),
                Some(&self.tax),
                None,
            )
            .await;
        assert!(s == 200 || s == 201, "{s} {a}");
        a["result"].clone()
    }

    pub async fn decide(&self, uscc: &str, body: Value) -> (u16, Value) {
        self.app
            .call(
                Method::POST,
                &format!("/api/v1/rewards/{uscc}/2025/decision"),
                Some(&self.fed),
                Some(body),
            )
            .await
    }

    pub async fn pay(&self, uscc: &str, key: &str, body: Value) -> (u16, Value, bool) {
        let r = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/rewards/{uscc}/2025/payouts")),
            )
            .bearer_auth(&self.fed)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .expect("send");
        let replayed = r.headers().contains_key("Idempotent-Replayed");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null), replayed)
    }

    pub async fn roll(&self) -> Value {
        let (s, v) = self
            .app
            .call(
                Method::GET,
                "/api/v1/rewards?region=520000&levy_year=2025",
                Some(&self.fed),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

pub fn uscc(n: u32) -> String {
    uscc_with_check(&format!("91520102MA{n:07}"))
}

#[tokio::test]
async fn the_rewards_roll_equals_the_engines_reward_figures() {
    let g = Guizhou::new().await;
    let (a, b, c) = (uscc(1), uscc(2), uscc(3));
    let ra = g.assessed(&a, "enterprise", "5").await;
    let rb = g.assessed(&b, "private_non_enterprise", "9").await;
    // Below the quota: no reward, not on the roll.
    let rc = g.assessed(&c, "enterprise", "0").await;
    assert_eq!(rc["reward"], "0.00");
    assert_ne!(ra["reward"], "0.00", "{ra}");
    let roll = g.roll().await;
    let items = roll["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{roll}");
    for (item, result) in items.iter().zip([&ra, &rb]) {
        assert_eq!(item["reward"], result["reward"]);
        assert_eq!(item["status"], "pending");
        assert_eq!(item["rule"]["kind"], "fixed_per_person");
        assert!(item["rule"]["citation"]
            .as_str()
            .unwrap()
            .contains("黔残联发〔2021〕11号"));
    }
    let sum: rust_decimal::Decimal = [&ra, &rb]
        .iter()
        .map(|r| {
            r["reward"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(roll["totals"]["reward"], format!("{sum:.2}"));
    assert_eq!(roll["rule"]["kind"], "fixed_per_person");
    let csv = g
        .app
        .get_text(
            "/api/v1/rewards?region=520000&levy_year=2025&format=csv",
            Some(&g.fed),
        )
        .await;
    assert!(csv.contains(&a) && csv.contains(ra["reward"].as_str().unwrap()));
    assert!(csv.contains("合计 (total)"));
    let r = g
        .app
        .send(
            Method::GET,
            "/api/v1/rewards?region=520000&levy_year=2025&format=xlsx",
            Some(&g.fed),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // An employer never lists the roll.
    let emp = g.app.employer(&a).await;
    let (s, _) = g
        .app
        .call(
            Method::GET,
            "/api/v1/rewards?levy_year=2025",
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_region_without_a_reward_rule_says_why() {
    let g = Guizhou::new().await;
    let (s, v) = g
        .app
        .call(
            Method::GET,
            "/api/v1/rewards?region=411202&levy_year=2025",
            Some(&g.fed),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rule"]["kind"], "none");
    assert!(!v["rule"]["note"].as_str().unwrap_or("").is_empty(), "{v}");
    assert_eq!(v["total"], 0);
}

#[tokio::test]
async fn an_approved_reward_is_paid_once_under_a_replayed_request() {
    let g = Guizhou::new().await;
    let a = uscc(11);
    let result = g.assessed(&a, "enterprise", "5").await;
    let reward = result["reward"].as_str().unwrap().to_owned();
    // Not approved yet: nothing is paid.
    let body = json!({"paid_on": "2026-03-01", "reference": "ZJ-2026-0001"});
    let (s, v, _) = g.pay(&a, "p-0", body.clone()).await;
    assert_eq!(s, 409, "{v}");
    // A figure other than the current one is not approved.
    let (s, _) = g
        .decide(&a, json!({"decision": "approve", "reward": "1.00"}))
        .await;
    assert_eq!(s, 409);
    let (s, v) = g
        .decide(&a, json!({"decision": "approve", "reward": reward}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "approved");
    assert_eq!(v["approved"], reward.as_str());
    let (s, first, replayed) = g.pay(&a, "p-1", body.clone()).await;
    assert_eq!(s, 201, "{first}");
    assert!(!replayed);
    assert_eq!(first["amount"], reward.as_str());
    let (s, again, replayed) = g.pay(&a, "p-1", body.clone()).await;
    assert_eq!((s, replayed), (201, true));
    assert_eq!(again["id"], first["id"]);
    let (s, _, _) = g
        .pay(
            &a,
            "p-1",
            json!({"paid_on": "2026-03-02", "reference": "ZJ-2026-0001"}),
        )
        .await;
    assert_eq!(s, 409, "the same key with another body");
    let (s, v, _) = g.pay(&a, "p-2", body.clone()).await;
    assert_eq!(s, 409, "paid once: {v}");
    // The employer sees it on its statement.
    let emp = g.app.employer(&a).await;
    let (s, st) = g
        .app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{a}/statements/2025"),
            Some(&emp),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(st["reward"]["status"], "paid", "{st}");
    assert_eq!(st["reward"]["paid"], reward.as_str());
    assert_eq!(st["reward"]["due"], reward.as_str());
    // Reversed by a negative entry, never by an edit; then payable again.
    let (s, rev, _) = g
        .pay(
            &a,
            "r-1",
            json!({"paid_on": "2026-03-05", "reference": "ZJ-2026-0001-R", "reverses": first["id"]}),
        )
        .await;
    assert_eq!(s, 201, "{rev}");
    assert_eq!(rev["amount"], format!("-{reward}"));
    let (s, mine) = g.reward(&a, &emp).await;
    assert_eq!(s, 200);
    assert_eq!(mine["status"], "approved");
    assert_eq!(mine["paid"], "0.00");
    assert_eq!(mine["payouts"].as_array().unwrap().len(), 2);
    // Mails: approved once, paid once (not for the reversal).
    let db = g.app.pool();
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
    assert_eq!(kinds, ["reward_approved", "reward_paid"]);
}

#[tokio::test]
async fn a_re_assessment_after_approval_flags_it_for_review() {
    let g = Guizhou::new().await;
    let a = uscc(21);
    g.assessed(&a, "enterprise", "5").await;
    let (s, _) = g.decide(&a, json!({"decision": "approve"})).await;
    assert_eq!(s, 200);
    let changed = g.reassess(&a, "7").await;
    let (_, mine) = g.reward(&a, &g.fed).await;
    assert_eq!(mine["status"], "review", "{mine}");
    assert_eq!(mine["due"], changed["reward"]);
    let (s, v, _) = g
        .pay(
            &a,
            "p-1",
            json!({"paid_on": "2026-03-01", "reference": "ZJ-1"}),
        )
        .await;
    assert_eq!(s, 409);
    assert!(
        v["detail"].as_str().unwrap_or("").contains("重新审核"),
        "the refusal says why: {v}"
    );
    let roll = g.roll().await;
    assert_eq!(roll["items"][0]["status"], "review");
    assert_eq!(roll["totals"]["approved"], "0.00");
    // Decided again on the new figure, it is paid at that figure.
    g.decide(&a, json!({"decision": "approve"})).await;
    let (s, p, _) = g
        .pay(
            &a,
            "p-2",
            json!({"paid_on": "2026-03-01", "reference": "ZJ-2"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(p["amount"], changed["reward"]);
}

#[tokio::test]
async fn a_refused_reward_is_never_paid_and_a_bulk_decision_is_all_or_none() {
    let g = Guizhou::new().await;
    let (a, b) = (uscc(31), uscc(32));
    g.assessed(&a, "enterprise", "5").await;
    g.assessed(&b, "enterprise", "6").await;
    let (s, v) = g.decide(&a, json!({"decision": "refuse"})).await;
    assert_eq!(s, 422);
    assert_eq!(v["errors"][0]["pointer"], "/reason", "{v}");
    let (s, v) = g
        .decide(
            &a,
            json!({"decision": "refuse", "reason": "残疾职工社会保险未足额缴纳"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "refused");
    let (s, _, _) = g
        .pay(
            &a,
            "p-1",
            json!({"paid_on": "2026-03-01", "reference": "ZJ-1"}),
        )
        .await;
    assert_eq!(s, 409);
    // One unknown employer in the list: nothing is decided.
    let unknown = uscc(99);
    let (s, v) = g
        .app
        .call(
            Method::POST,
            "/api/v1/rewards/decisions",
            Some(&g.fed),
            Some(json!({"levy_year": 2025, "decision": "approve", "uscc": [b, unknown]})),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(v["errors"][0]["pointer"], "/uscc/1");
    // The refused one cannot be approved in bulk unnoticed either: it is decided again
    // only when named; here b alone.
    let (s, v) = g
        .app
        .call(
            Method::POST,
            "/api/v1/rewards/decisions",
            Some(&g.fed),
            Some(json!({"levy_year": 2025, "decision": "approve", "uscc": [b]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"][0]["status"], "approved");
    let roll = g.roll().await;
    let statuses: Vec<&str> = roll["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["refused", "approved"]);
    assert_eq!(roll["items"][0]["reason"], "残疾职工社会保险未足额缴纳");
}

#[tokio::test]
async fn the_command_line_exports_the_rewards_roll_and_the_ledger() {
    let g = Guizhou::new().await;
    let a = uscc(51);
    let result = g.assessed(&a, "enterprise", "5").await;
    let url = g.app.db_url.clone();
    let (rewards, ledger) = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            let out = crate::helpers::bin(Some(&url)).args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        (
            run(&[
                "rewards",
                "export",
                "--levy-year",
                "2025",
                "--region",
                "520000",
            ]),
            run(&["ledger", "--levy-year", "2025", "--region", "520000"]),
        )
    })
    .await
    .unwrap();
    assert!(rewards.contains(&a) && rewards.contains(result["reward"].as_str().unwrap()));
    assert!(rewards.contains("待审核 (pending)"));
    assert!(ledger.contains("levy_assessed") && ledger.contains("balance"));
}

#[tokio::test]
async fn the_federation_decides_on_its_page_with_a_form_token() {
    use crate::helpers::web::{person, sign_in};
    let g = Guizhou::new().await;
    let a = uscc(61);
    let result = g.assessed(&a, "enterprise", "5").await;
    let reward = result["reward"].as_str().unwrap().to_owned();
    person(&g.app, "fed-gz", Role::Federation, None, Some("520000")).await;
    let web = sign_in(&g.app, "fed-gz").await;
    let html = web
        .get("/federation/rewards?region=520000&levy_year=2025")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&a) && html.contains(&reward), "{html}");
    assert!(html.contains(&format!("<label for=\"reason-{a}\">")));
    let fields = [
        ("uscc", a.as_str()),
        ("levy_year", "2025"),
        ("region", "520000"),
        ("reward", reward.as_str()),
        ("decision", "approve"),
    ];
    // Without the form token: 403, nothing decided.
    let r = web.post_raw("/federation/rewards", &fields).await;
    assert_eq!(r.status(), 403);
    // A refusal without a reason is shown again, nothing decided.
    let mut refuse = fields.to_vec();
    refuse[4] = ("decision", "refuse");
    let r = web.post_form("/federation/rewards", &refuse).await;
    assert_eq!(r.status(), 422);
    let (_, mine) = g.reward(&a, &g.fed).await;
    assert_eq!(mine["status"], "pending");
    let r = web.post_form("/federation/rewards", &fields).await;
    assert_eq!(r.status(), 303);
    let (_, mine) = g.reward(&a, &g.fed).await;
    assert_eq!(mine["status"], "approved");
    // An employer may not open the page.
    person(&g.app, "emp-61", Role::Employer, Some(&a), None).await;
    let emp = sign_in(&g.app, "emp-61").await;
    assert_eq!(emp.get("/federation/rewards").await.status(), 403);
}

#[tokio::test]
async fn the_federation_decides_on_its_page_in_bulk_and_one_and_the_statement_shows_the_payout() {
    use crate::helpers::web::{person, sign_in};
    let g = Guizhou::new().await;
    let (a, b, c, d) = (uscc(41), uscc(42), uscc(43), uscc(44));
    let mut reward = String::new();
    for u in [&a, &b, &c, &d] {
        let r = g.assessed(u, "enterprise", "5").await;
        reward = r["reward"].as_str().unwrap().to_owned();
    }
    assert_ne!(
        reward, "0.00",
        "Guizhou rewards five disabled among 100 staff"
    );
    person(&g.app, "fed-gz", Role::Federation, None, Some("520000")).await;
    person(&g.app, "emp-gz", Role::Employer, Some(&a), None).await;
    let fed = sign_in(&g.app, "fed-gz").await;
    let page = "/federation/rewards?region=520000&levy_year=2025";
    let html = fed.get(page).await.text().await.unwrap();
    for u in [&a, &b, &c, &d] {
        assert!(
            html.contains(&format!("value=\"{u}@{reward}\"")),
            "{u} {html}"
        );
    }
    let statuses = || async {
        let roll = g.roll().await;
        roll["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["uscc"].as_str().unwrap().to_owned(),
                    i["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let bulk = "/federation/rewards/bulk";
    let year = [("levy_year", "2025"), ("region", "520000")];
    let pick = |u: &str, r: &str| format!("{u}@{r}");
    // A figure other than the current one among the ticks: nothing is decided.
    let (pa, pb_wrong) = (pick(&a, &reward), pick(&b, "1.00"));
    let mut fields = year.to_vec();
    fields.extend([("pick", pa.as_str()), ("pick", pb_wrong.as_str())]);
    let r = fed.post_form(bulk, &fields).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("所选奖励均未作决定"));
    let r = fed.post_raw(bulk, &fields).await;
    assert_eq!(r.status(), 403, "no form token");
    assert!(statuses().await.values().all(|s| s == "pending"));
    // Ticked a and b, one button.
    let pb = pick(&b, &reward);
    let mut fields = year.to_vec();
    fields.extend([("pick", pa.as_str()), ("pick", pb.as_str())]);
    let r = fed.post_form(bulk, &fields).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("&approved=2"));
    // A refusal needs a reason; then c is refused, d approved alone.
    let one = |u: &str, decision: &str, reason: &str| {
        vec![
            ("uscc", u.to_owned()),
            ("levy_year", "2025".to_owned()),
            ("region", "520000".to_owned()),
            ("reward", reward.clone()),
            ("decision", decision.to_owned()),
            ("reason", reason.to_owned()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let fed = &fed;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            fed.post_form("/federation/rewards", &refs).await
        }
    };
    let r = send(one(&c, "refuse", "")).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不予奖励须填写理由"));
    assert_eq!(
        send(one(&c, "refuse", "残疾职工社会保险未足额缴纳"))
            .await
            .status(),
        303
    );
    assert_eq!(send(one(&d, "approve", "")).await.status(), 303);
    let now = statuses().await;
    assert_eq!(
        [&now[&a], &now[&b], &now[&c], &now[&d]],
        ["approved", "approved", "refused", "approved"]
    );
    let html = fed.get(page).await.text().await.unwrap();
    assert!(html.contains("残疾职工社会保险未足额缴纳"));
    assert!(
        !html.contains(&format!("value=\"{c}@")),
        "a refused reward is not ticked among others"
    );

    // The employer's statement: approved, then paid with the payout listed.
    let emp = sign_in(&g.app, "emp-gz").await;
    let statement = format!("/my/{a}/statement/2025");
    let html = emp.get(&statement).await.text().await.unwrap();
    assert!(
        html.contains("<td class=\"n\" colspan=\"2\" id=\"reward-status\">已批准</td>"),
        "{html}"
    );
    assert!(html.contains("<td class=\"n\" id=\"reward-paid\">0.00</td>"));
    let (s, p, _) = g
        .pay(
            &a,
            "page-1",
            json!({"paid_on": "2026-03-01", "reference": "ZJ-2026-0101"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let html = emp.get(&statement).await.text().await.unwrap();
    assert!(html.contains("<td class=\"n\" colspan=\"2\" id=\"reward-status\">已发放</td>"));
    assert!(html.contains(&format!("<td class=\"n\" id=\"reward-paid\">{reward}</td>")));
    assert!(html.contains("ZJ-2026-0101"));
    let en = emp
        .get(&format!("{statement}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(en.contains("Over-quota reward") && en.contains(">paid</td>"));
}
