//! Assessments: one employer, batch runs, immutability, equality with the public
//! calculator for the same inputs.

use crate::helpers::{app_with_employer, declaration_body, uscc_with_check, USCC_A};
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

const DECL: &str = "/api/v1/employers/91350100M000100Y43/declarations/2025";
const ASSESS: &str = "/api/v1/employers/91350100M000100Y43/assessments/2025";

async fn wait_for_run(app: &crate::helpers::TestApp, token: &str, location: &str) -> Value {
    for _ in 0..200 {
        let v: Value = app
            .send(Method::GET, location, Some(token), None)
            .await
            .json()
            .await
            .unwrap();
        if v["status"] != "running" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("run did not finish");
}

#[tokio::test]
async fn assessment_equals_the_public_calculator_and_explains_itself() {
    let (app, _) = app_with_employer().await;
    let emp = app.token(Role::Employer, Some(USCC_A), None).await;
    let tax = app.token(Role::Tax, None, Some("411200")).await;
    app.send(Method::PUT, DECL, Some(&emp), Some(declaration_body()))
        .await;

    let r = app.send(Method::POST, ASSESS, Some(&tax), None).await;
    assert_eq!(r.status(), 409, "a draft is not declared yet");
    app.send(Method::POST, &format!("{DECL}/submit"), Some(&emp), None)
        .await;
    let r = app.send(Method::POST, ASSESS, Some(&emp), None).await;
    assert_eq!(r.status(), 403, "employers do not assess themselves");
    let r = app.send(Method::POST, ASSESS, Some(&tax), None).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();

    // The same inputs through the public calculator give the same figures.
    let mut inputs = a["inputs"].clone();
    // The tax bureau sees the inputs with certificates masked; the employer does not.
    assert!(!inputs.to_string().contains(crate::helpers::CERT_A));
    let own: Value = app
        .send(Method::GET, ASSESS, Some(&emp), None)
        .await
        .json()
        .await
        .unwrap();
    inputs = own["inputs"].clone();
    let calc: Value = app
        .client
        .post(app.url("/api/v1/levy/calculate"))
        .json(&inputs)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for k in [
        "fee_due",
        "reduction",
        "levy_payable",
        "required",
        "disabled_counted",
        "average_wage",
        "reward",
    ] {
        assert_eq!(a["result"][k], calc[k], "{k}");
    }
    // Henan 1.6 %, N 100, one grade-2 holder all year (weight 2): D = 2 ≥ 1.6, no levy.
    assert_eq!(a["result"]["disabled_counted"], "2.0000");
    assert_eq!(a["result"]["levy_payable"], "0.00");
    assert!(a["result"]["explanation"].as_array().unwrap().len() > 5);

    // Assessing again with nothing changed writes nothing new.
    let r = app.send(Method::POST, ASSESS, Some(&tax), None).await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], a["id"]);
    assert_eq!(again["assessments_for_year"], 1);

    // An amendment leads to a new assessment; the old one is kept, superseded.
    let mut b = declaration_body();
    b["disabled_employees"] = json!([]);
    app.send(Method::PUT, DECL, Some(&emp), Some(b)).await;
    app.send(Method::POST, &format!("{DECL}/submit"), Some(&emp), None)
        .await;
    let r = app.send(Method::POST, ASSESS, Some(&tax), None).await;
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    assert_ne!(b["id"], a["id"]);
    assert_eq!(b["assessments_for_year"], 2);
    // 1.6 × 100 = 1.6 required, none counted, W = 70,000: fee 112,000.00, 90 % payable.
    assert_eq!(b["result"]["fee_due"], "112000.00");
    assert_eq!(b["result"]["levy_payable"], "100800.00");
}

#[tokio::test]
async fn batch_run_assesses_filed_declarations_and_a_rerun_changes_nothing() {
    let (app, admin) = app_with_employer().await;
    let tax = app.token(Role::Tax, None, None).await;
    let others: Vec<String> = (1..=4)
        .map(|i| uscc_with_check(&format!("91411200MA000010{i}")))
        .collect();
    for (i, u) in others.iter().enumerate() {
        let r = app
            .send(
                Method::POST,
                "/api/v1/employers",
                Some(&admin),
                Some(json!({"uscc": u, "name": format!("单位{i}"), "kind": "enterprise", "region": "411203"})),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let mut all = vec![USCC_A.to_owned()];
    all.extend(others);
    for (i, u) in all.iter().enumerate() {
        let path = format!("/api/v1/employers/{u}/declarations/2025");
        let body = json!({"staff": {"average_headcount": format!("{}", 20 + 10 * i)}, "average_wage": "60000", "disabled_count": "0"});
        assert_eq!(
            app.send(Method::PUT, &path, Some(&admin), Some(body))
                .await
                .status(),
            201
        );
        if i < 4 {
            app.send(Method::POST, &format!("{path}/submit"), Some(&admin), None)
                .await;
        }
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/assessment-runs",
            Some(&tax),
            Some(json!({"levy_year": 2025, "region": "411200"})),
        )
        .await;
    assert_eq!(r.status(), 202);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let run = wait_for_run(&app, &tax, &loc).await;
    assert_eq!(run["status"], "finished", "{run}");
    assert_eq!(run["total"], 4, "the draft is not filed");
    assert_eq!(run["assessed"], 4);
    // Staff 20 and 30 are exempt small enterprises; 40 and 50 owe.
    assert_eq!(run["exempt"], 2);
    assert_eq!(run["below_quota"], 2);
    // 40 × 1.6 % × 60,000 × 90 % + 50 × 1.6 % × 60,000 × 90 %
    assert_eq!(run["payable_total_fen"], 3_456_000 + 4_320_000);

    let r = app
        .send(
            Method::POST,
            "/api/v1/assessment-runs",
            Some(&tax),
            Some(json!({"levy_year": 2025, "region": "411200"})),
        )
        .await;
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let run = wait_for_run(&app, &tax, &loc).await;
    assert_eq!(run["assessed"], 0);
    assert_eq!(run["unchanged"], 4);

    let insp = app.token(Role::Inspector, None, None).await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/assessment-runs",
            Some(&insp),
            Some(json!({"levy_year": 2025})),
        )
        .await;
    assert_eq!(r.status(), 403);
}

/// The database itself refuses an assessment that refers to a missing employer,
/// declaration, policy snapshot or run (row-level foreign keys on SQLite, a
/// statement-level check on PostgreSQL, which the batch's COPY fires too), and takes a
/// copy of a real one whose references all exist; a referenced row cannot be deleted.
#[tokio::test]
async fn an_assessment_with_a_dangling_reference_is_refused() {
    let (app, _, _) = crate::helpers::assessed_10000().await;
    let url = app.db_url.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        let db = crate::helpers::open_db(&url);
        let mut c = db.conn().unwrap();
        let columns = [
            "employer_id",
            "levy_year",
            "region",
            "kind",
            "declaration_id",
            "declaration_version",
            "inputs_digest",
            "policy_snapshot_id",
            "as_of",
            "staff_x12_e4",
            "disabled_x12_e4",
            "required_e4",
            "shortfall_e4",
            "average_wage_fen",
            "wage_used_fen",
            "fee_due_fen",
            "reduction_fen",
            "payable_fen",
            "over_quota_e4",
            "reward_fen",
            "exempt",
            "provisional",
            "inputs_json",
            "run_id",
            "computed_at",
            "superseded_at",
            "is_current",
        ];
        let copy_with = |column: &str, value: &str| {
            let select: Vec<String> = columns
                .iter()
                .map(|c| match *c {
                    c if c == column => value.to_owned(),
                    // The copy must not collide with the current row.
                    "is_current" => "FALSE".to_owned(),
                    c => c.to_owned(),
                })
                .collect();
            format!(
                "INSERT INTO assessments ({}) SELECT {} FROM assessments WHERE is_current",
                columns.join(", "),
                select.join(", ")
            )
        };
        let inserts = [
            ("employer_id", "987654"),
            ("declaration_id", "987654"),
            ("policy_snapshot_id", "987654"),
            ("run_id", "987654"),
            ("inputs_digest", "'copy'"),
        ]
        .map(|(column, value)| {
            diesel::sql_query(copy_with(column, value))
                .execute(&mut *c)
                .is_ok()
        });
        // Nor may a referenced row go: the snapshot the assessments use stays; an unused
        // one may be deleted.
        let mut run = |sql: &str| diesel::sql_query(sql).execute(&mut *c).is_ok();
        let unused = run(
            "INSERT INTO policy_snapshots (digest, body_json, created_at) \
                          VALUES ('unused', '{}', CURRENT_TIMESTAMP)",
        );
        let deletes = [
            run("DELETE FROM policy_snapshots WHERE digest <> 'unused'"),
            run("DELETE FROM policy_snapshots WHERE digest = 'unused'"),
        ];
        (inserts, unused, deletes)
    })
    .await
    .unwrap();
    assert_eq!(outcomes.0, [false, false, false, false, true]);
    assert!(outcomes.1);
    assert_eq!(outcomes.2, [false, true]);
}
