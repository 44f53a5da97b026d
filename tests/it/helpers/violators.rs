//! A region with many violators for the list's tests: demonstration employers (every
//! one declared), assessed by a batch run, so that most owe a different amount; and
//! the list as the former in-memory reading gives it, to compare the stored list with.

use quota_levy::db::declarations::Status;
use quota_levy::jobs::demo::{generate, DemoSpec};
use quota_levy::registry::violations::{load, ViolationKind, ViolationRow};

use super::{policy, TestApp};

/// `employers` demonstration employers in 三门峡 (411200) for levy year 2025, assessed.
pub async fn assessed_region(app: &TestApp, employers: u64, seed: u64) {
    let pool = app.pool();
    tokio::task::spawn_blocking(move || {
        let spec = DemoSpec {
            employers,
            levy_year: 2025,
            region: "411200".parse().expect("region"),
            seed,
            status: Status::Submitted,
            actor: "test:demo".into(),
        };
        generate(&pool, policy().as_ref(), &spec, &mut |_| ()).expect("demo data")
    })
    .await
    .expect("join");
    app.queue_assessment_run(2025, None).await;
    app.run_assessments().await;
}

/// The rows of the list of 2025 under `prefix` on `as_of`, of `kind` (all when `None`),
/// decided and sorted in memory over the whole region.
pub async fn in_memory(
    app: &TestApp,
    prefix: &str,
    as_of: &str,
    kind: Option<ViolationKind>,
) -> Vec<ViolationRow> {
    let pool = app.pool();
    let (prefix, as_of) = (prefix.to_owned(), as_of.parse().expect("date"));
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.conn().expect("conn");
        load(&mut conn, policy().as_ref(), 2025, &prefix, as_of, kind).expect("in-memory list")
    })
    .await
    .expect("join")
}
