//! Email reminders against a REAL SMTP server (aiosmtpd, tests/smtp_sink.py): what
//! arrives (recipient, subject, amounts, both languages), a server that goes down and
//! comes back mid-run, and two workers racing on one database (PostgreSQL too, with
//! QUOTA_LEVY_TEST_POSTGRES_URL).

use crate::helpers::smtp::{text_part, SmtpSink};
use crate::helpers::{policy, test_settings, uscc_with_check, TestDb};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use quota_levy::config::Settings;
use quota_levy::db::assessments::{insert_many, snapshot_id, NewAssessment};
use quota_levy::db::declarations::{save, set_status, NewVersion, Status};
use quota_levy::db::employers::by_uscc;
use quota_levy::db::employers::{insert, NewEmployer};
use quota_levy::db::outbox::{self, NewReminder, ReminderKind};
use quota_levy::db::payments::{insert as insert_payment, NewPayment};
use quota_levy::db::{AnyConnection, DatabaseUrl, Db};
use quota_levy::domain::{PolicyProvider, RegionCode, ResolvedPolicy};
use quota_levy::jobs::reminders::{plan_reminders, PlanReport};
use quota_levy::mail::plan::Schedule;
use quota_levy::mail::{
    run_pass, MailTransport, Mailer, PassConfig, SendError, Sender, SmtpMailTransport, Templates,
};
use quota_levy::registry::payments::statement;
use serde_json::Value;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

// ---------------------------------------------------------------------------------------
// Fixtures.

struct Fixture {
    _db: TestDb,
    url: String,
    settings: Settings,
    pool: Db,
}

/// Settings without 催报 stages, for tests about the other kinds that plan past the
/// filing deadline with undeclared employers.
const NO_CATCH_UP: (&str, &str) = ("QUOTA_LEVY__MAIL__DECLARE_OVERDUE_DAYS_AFTER", "");

fn fixture(sink: &SmtpSink, extra: &[(&str, &str)]) -> Fixture {
    let (db, url) = TestDb::create();
    let mut env: Vec<(String, String)> = sink.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let settings = test_settings(&url, &refs);
    let pool = open(&url, &settings);
    pool.migrate().expect("migrate");
    Fixture {
        _db: db,
        url,
        settings,
        pool,
    }
}

/// The law of levy year 2025 in Sanmenxia (data year 2024), as its assessments use it.
fn law_2025() -> ResolvedPolicy {
    policy()
        .resolve("411200".parse().expect("region"), d("2025-06-30"), 2024)
        .expect("policy")
}

impl Fixture {
    /// Plans levy year 2025's reminders due on `as_of`, with the shipped templates and
    /// the fixture's schedule.
    fn plan(&self, conn: &mut AnyConnection, as_of: NaiveDate) -> PlanReport {
        plan_reminders(
            conn,
            &policy(),
            &Templates::embedded().expect("templates"),
            &self.settings.mail.payment,
            &Schedule::from_settings(&self.settings.mail),
            2025,
            as_of,
            self.settings.collection.surcharge_from,
        )
        .expect("plan")
    }
}

/// A pool of its own: a second worker is a second "process" with its own connections.
fn open(url: &str, settings: &Settings) -> Db {
    Db::new(DatabaseUrl::parse(url).expect("url"), &settings.database).expect("pool")
}

fn mailer(settings: &Settings) -> Mailer {
    Mailer {
        transport: Arc::new(SmtpMailTransport::new(&settings.mail).expect("transport")),
        sender: Sender::from_settings(settings).expect("sender"),
    }
}

fn employer(conn: &mut AnyConnection, n: u32, email: Option<&str>) -> i64 {
    let now = Utc::now().naive_utc();
    insert(
        conn,
        &NewEmployer {
            uscc: uscc_with_check(&format!("91411200MA4{n:06}")),
            name: format!("三门峡第{n}测试有限公司"),
            kind: "enterprise".into(),
            region: "411200".into(),
            registered_on: None,
            contact_email: email.map(str::to_owned),
            establishment_size: None,
            committee_member: false,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("insert employer")
    .expect("new employer")
    .id
}

/// A submitted declaration and a current assessment with `payable_fen`, made under the
/// policy values `law` (its snapshot, as a real assessment stores it).
fn assessed(
    conn: &mut AnyConnection,
    employer_id: i64,
    levy_year: i32,
    payable_fen: i64,
    law: &ResolvedPolicy,
) {
    let now = Utc::now().naive_utc();
    let existing =
        quota_levy::db::declarations::current(conn, employer_id, levy_year).expect("read");
    let d = save(
        conn,
        existing.as_ref(),
        NewVersion {
            employer_id,
            levy_year,
            body_json: "{}",
            body_digest: "test",
            status: Status::Submitted,
            actor: "test",
            roster: Vec::new(),
        },
    )
    .expect("declaration");
    let body = serde_json::to_string(law).expect("snapshot JSON");
    let snapshot = snapshot_id(conn, "test-snapshot", &body, now).expect("snapshot");
    insert_many(
        conn,
        &[NewAssessment {
            employer_id,
            levy_year,
            region: "411200".into(),
            kind: "enterprise".into(),
            declaration_id: d.id,
            declaration_version: d.version,
            inputs_digest: "test".into(),
            policy_snapshot_id: snapshot,
            as_of: now.date(),
            staff_x12_e4: 0,
            disabled_x12_e4: 0,
            required_e4: 0,
            shortfall_e4: 0,
            average_wage_fen: None,
            wage_used_fen: None,
            fee_due_fen: payable_fen,
            reduction_fen: 0,
            payable_fen,
            over_quota_e4: 0,
            reward_fen: 0,
            exempt: false,
            provisional: false,
            inputs_json: "{}".into(),
            run_id: None,
            computed_at: now,
            superseded_at: None,
            is_current: true,
            registered_on: None,
        }],
    )
    .expect("assessment");
}

/// A reminder for the delivery tests. Its kind is one the sender never cancels (a
/// published notice stays true): a pay reminder for an employer that owes nothing — these
/// are never assessed — would be cancelled before sending (`mail::recheck`).
fn reminder(employer_id: i64, i: usize) -> NewReminder {
    NewReminder {
        kind: ReminderKind::NoticePublished,
        employer_id,
        levy_year: 2025,
        stage: format!("test-{i}"),
        recipient: format!("finance{i}@example.org"),
        subject: format!("【残疾人就业保障金】提醒 {i} / Reminder {i}"),
        body_zh: format!("应缴金额：{}.00 元\n", 1000 + i),
        body_en: format!("Levy payable: {}.00 yuan\n", 1000 + i),
        act_by: None,
    }
}

/// A pass at `at`, judging the checks before sending by today's date in China.
fn pass(
    db: &Db,
    mailer: &Mailer,
    cfg: &PassConfig,
    at: chrono::NaiveDateTime,
) -> quota_levy::mail::PassReport {
    run_pass(
        db,
        mailer,
        cfg,
        &move || at,
        &quota_levy::clock::china_today,
        &AtomicBool::new(false),
    )
    .expect("pass")
}

/// A pass now (the rows are due from when they were queued) that judges the checks
/// before sending as on `day` in China: the day a test's levy year has reached.
fn pass_on(
    db: &Db,
    mailer: &Mailer,
    cfg: &PassConfig,
    day: NaiveDate,
) -> quota_levy::mail::PassReport {
    let now = Utc::now().naive_utc();
    run_pass(
        db,
        mailer,
        cfg,
        &move || now,
        &move || day,
        &AtomicBool::new(false),
    )
    .expect("pass")
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn payment(conn: &mut AnyConnection, employer_id: i64, amount_fen: i64, paid_on: NaiveDate) {
    let key = format!("pay-{employer_id}-{amount_fen}-{paid_on}");
    insert_payment(
        conn,
        &NewPayment {
            employer_id,
            levy_year: 2025,
            amount_fen,
            paid_on,
            reference: format!("BANK-{employer_id}"),
            idempotency_key: key.clone(),
            request_digest: key,
            recorded_by: "test".into(),
            recorded_at: Utc::now().naive_utc(),
        },
    )
    .expect("payment");
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread")]
async fn planned_reminders_arrive_with_recipient_subject_amounts_and_both_languages() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        // Without 催报 stages: this test is about the others (the 催报 has its own).
        let f = fixture(&sink, &[NO_CATCH_UP]);
        let book = policy();
        let region: RegionCode = "411200".parse().expect("region");
        let law = book.resolve(region, d("2025-06-30"), 2024).expect("policy");
        let (deadline, due) = (law.filing_deadline.value, law.payment_due.value);

        let mut conn = f.pool.conn().expect("conn");
        let payer = employer(&mut conn, 1, Some("finance@payer.example.org"));
        assessed(&mut conn, payer, 2025, 1_234_567, &law);
        // Part paid ten days late.
        insert_payment(
            &mut conn,
            &NewPayment {
                employer_id: payer,
                levy_year: 2025,
                amount_fen: 234_567,
                paid_on: due + Duration::days(10),
                reference: "BANK-1".into(),
                idempotency_key: "k1".into(),
                request_digest: "d1".into(),
                recorded_by: "test".into(),
                recorded_at: Utc::now().naive_utc(),
            },
        )
        .expect("payment");
        let late = employer(&mut conn, 2, Some("hr@late.example.org"));
        employer(&mut conn, 3, None);

        // A week before the filing deadline: the undeclared employer is reminded.
        let r = f.plan(&mut conn, deadline - Duration::days(7));
        assert_eq!(r.queued.get("declare"), Some(&1), "{r:?}");
        // Sent that week: a declaration reminder is true until its deadline.
        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let report = pass_on(&f.pool, &mailer, &cfg, deadline - Duration::days(7));
        assert_eq!(report.sent, 1, "{report:?}");
        // 30 days past the due date: the assessed employer is overdue, with the surcharge.
        let as_of = due + Duration::days(30);
        let r = f.plan(&mut conn, as_of);
        assert_eq!(r.queued.get("overdue"), Some(&1), "{r:?}");
        // Planning again queues nothing new.
        let again = f.plan(&mut conn, as_of);
        assert_eq!(again.total_queued(), 0);
        assert_eq!(again.already_queued, 1);

        let report = pass_on(&f.pool, &mailer, &cfg, as_of);
        assert_eq!(report.sent, 1, "{report:?}");
        assert_eq!(pass_on(&f.pool, &mailer, &cfg, as_of).claimed, 0);

        let rows = outbox::all(&mut conn).expect("rows");
        let messages = sink.messages();
        assert_eq!(messages.len(), 2);
        let find = |to: &str| {
            messages
                .iter()
                .find(|m| m["rcpt_tos"][0] == to)
                .unwrap_or_else(|| panic!("nothing for {to}: {messages:?}"))
        };

        // The overdue mail carries the statement's figures (the tax bureau's view of
        // the same employer, year and day), formatted as the API formats money.
        let payer_row = by_uscc(&mut conn, &uscc_with_check("91411200MA4000001"))
            .expect("employer")
            .expect("payer");
        let st = statement(&mut conn, &*book, &payer_row, 2025, as_of).expect("statement");
        // 10 days on 12,345.67 (617.28), then 20 days on 10,000.00 (1,000.00).
        assert_eq!(
            (st.surcharge.as_str(), st.outstanding.as_str()),
            ("1617.28", "11617.28")
        );
        let m = find("finance@payer.example.org");
        let row = rows.iter().find(|r| r.employer_id == payer).expect("row");
        assert_eq!(row.stage, "overdue-30");
        assert_eq!(
            m["message_id"],
            format!("<reminder-{}@example.org>", row.id)
        );
        assert_eq!(m["content_type"], "multipart/alternative");
        assert!(m["from"]
            .as_str()
            .is_some_and(|s| s.contains("levy-reminders@example.org")));
        let subject = m["subject"].as_str().expect("subject");
        assert!(
            subject.contains("逾期30天") && subject.contains(&st.outstanding),
            "{subject}"
        );
        let zh = text_part(m, "zh-CN");
        for line in [
            format!("应缴金额：{} 元", st.principal),
            "已缴金额：2345.67 元".to_owned(),
            format!("滞纳金（截至{as_of}）：{} 元", st.surcharge),
            format!("合计尚欠：{} 元", st.outstanding),
        ] {
            assert!(zh.contains(&line), "{line} not in {zh}");
        }
        let en = text_part(m, "en");
        for amount in [&st.principal, &st.surcharge, &st.outstanding] {
            assert!(
                en.contains(&format!("{amount} yuan")),
                "{amount} not in {en}"
            );
        }
        // Chinese is the preferred (last) alternative.
        assert_eq!(m["parts"][1]["language"], "zh-CN");

        let m = find("hr@late.example.org");
        let zh = text_part(m, "zh-CN");
        assert!(zh.contains(&format!("申报截止日期为{deadline}")), "{zh}");
        assert!(text_part(m, "en").contains(&format!("is {deadline}.")));
        assert!(rows
            .iter()
            .all(|r| r.employer_id != late || r.kind == "declare"));
        assert!(rows
            .iter()
            .all(|r| r.status == outbox::SENT && r.sent_at.is_some()));
    })
    .await
    .expect("test thread");
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_whose_reason_is_gone_by_send_time_are_cancelled_and_the_others_sent() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[NO_CATCH_UP]);
        let law = law_2025();
        let (deadline, due) = (law.filing_deadline.value, law.payment_due.value);
        let mut conn = f.pool.conn().expect("conn");

        // Two employers that have not declared; one of them will, after being reminded.
        let declares = employer(&mut conn, 50, Some("hr@declares.example.org"));
        let draft = save(
            &mut conn,
            None,
            NewVersion {
                employer_id: declares,
                levy_year: 2025,
                body_json: "{}",
                body_digest: "test",
                status: Status::Draft,
                actor: "test",
                roster: Vec::new(),
            },
        )
        .expect("draft");
        employer(&mut conn, 51, Some("hr@undeclared.example.org"));
        // Two assessed employers; one of them will pay in full, after being reminded.
        let payer = employer(&mut conn, 52, Some("finance@payer.example.org"));
        assessed(&mut conn, payer, 2025, 1_000_000, &law);
        let debtor = employer(&mut conn, 53, Some("finance@debtor.example.org"));
        assessed(&mut conn, debtor, 2025, 2_000_000, &law);

        let r = f.plan(&mut conn, deadline - Duration::days(7));
        assert_eq!(r.queued.get("declare"), Some(&2), "{r:?}");
        // After queueing, one declaration is submitted; the pass runs that week, before
        // the deadline (after it, both would be cancelled: see
        // a_declare_reminder_sent_after_its_deadline_is_cancelled_with_the_reason).
        set_status(&mut conn, &draft, Status::Submitted, "test").expect("submit");
        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let report = pass_on(&f.pool, &mailer, &cfg, deadline - Duration::days(7));
        assert_eq!(
            (report.claimed, report.cancelled, report.sent),
            (2, 1, 1),
            "{report:?}"
        );

        let r = f.plan(&mut conn, due - Duration::days(7));
        assert_eq!(r.queued.get("pay"), Some(&2), "{r:?}");
        // After queueing, one levy is paid in full; the pass runs on the due date.
        payment(&mut conn, payer, 1_000_000, due - Duration::days(3));
        let report = pass_on(&f.pool, &mailer, &cfg, due);
        assert_eq!(
            (report.claimed, report.cancelled, report.sent),
            (2, 1, 1),
            "{report:?}"
        );
        let mut to: Vec<String> = sink
            .messages()
            .iter()
            .map(|m| m["rcpt_tos"][0].as_str().unwrap_or("?").to_owned())
            .collect();
        to.sort();
        assert_eq!(
            to,
            ["finance@debtor.example.org", "hr@undeclared.example.org"],
            "the mails whose reason still holds, and only those"
        );

        let rows = outbox::all(&mut conn).expect("rows");
        let row = |e: i64| rows.iter().find(|r| r.employer_id == e).expect("row");
        for (e, kind, why) in [
            (declares, "declare", "declaration was filed"),
            (payer, "pay", "paid in full"),
        ] {
            let r = row(e);
            assert_eq!(
                (r.kind.as_str(), r.status.as_str()),
                (kind, outbox::CANCELLED)
            );
            assert!(r.sent_at.is_none());
            assert!(
                r.last_error.as_deref().is_some_and(|m| m.contains(why)),
                "{:?}",
                r.last_error
            );
        }
        assert_eq!(row(debtor).status, outbox::SENT);
        let c = outbox::counts(&mut conn).expect("counts");
        assert_eq!((c.pending, c.sent, c.dead, c.cancelled), (0, 2, 0, 2));
        let out = bin(&f, &sink)
            .args(["reminders", "status"])
            .output()
            .expect("status");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("sent 2") && text.contains("cancelled 2"),
            "{text}"
        );

        // Cancelled is final: planning again queues nothing, a pass sends nothing.
        let r = f.plan(&mut conn, due - Duration::days(7));
        assert_eq!(r.total_queued(), 0, "{r:?}");
        assert_eq!(pass_on(&f.pool, &mailer, &cfg, due).claimed, 0);
        assert_eq!(sink.messages().len(), 2);
    })
    .await
    .expect("test thread");
}

/// The reminder that went out in December for an October deadline: rendered in time,
/// held back (an outage, a requeue), its date passed before its turn came.
#[tokio::test(flavor = "multi_thread")]
async fn a_declare_reminder_sent_after_its_deadline_is_cancelled_with_the_reason() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[]);
        let law = law_2025();
        let (deadline, due) = (law.filing_deadline.value, law.payment_due.value);
        let mut conn = f.pool.conn().expect("conn");
        let late = employer(&mut conn, 80, Some("hr@late.example.org"));
        let debtor = employer(&mut conn, 81, Some("finance@debtor.example.org"));
        assessed(&mut conn, debtor, 2025, 1_000_000, &law);

        let r = f.plan(&mut conn, deadline - Duration::days(7));
        assert_eq!(r.queued.get("declare"), Some(&1), "{r:?}");
        let r = f.plan(&mut conn, due - Duration::days(7));
        assert_eq!(r.queued.get("pay"), Some(&1), "{r:?}");
        // By then the undeclared employer is late: its 催报 is queued too.
        assert_eq!(r.queued.get("declare_overdue"), Some(&1), "{r:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        let declare = rows.iter().find(|r| r.kind == "declare").expect("declare");
        assert!(
            declare.subject.contains(&format!("请于{deadline}前完成")),
            "{}",
            declare.subject
        );
        assert_eq!(declare.act_by, Some(deadline));
        let pay = rows.iter().find(|r| r.kind == "pay").expect("pay");
        assert_eq!(pay.act_by, Some(due));

        // Their turn comes the day after the due date: both dates have passed. Neither
        // is sent, though the employer still has not declared and the levy is unpaid;
        // the 催报, which asks to declare now, is.
        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let report = pass_on(&f.pool, &mailer, &cfg, due + Duration::days(1));
        assert_eq!(
            (report.claimed, report.cancelled, report.sent),
            (3, 2, 1),
            "{report:?}"
        );
        let messages = sink.messages();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["rcpt_tos"][0], "hr@late.example.org");
        let subject = messages[0]["subject"].as_str().unwrap_or_default();
        assert!(
            subject.contains("催报") && !subject.contains("请于"),
            "{subject}"
        );
        let rows = outbox::all(&mut conn).expect("rows");
        for (e, kind, why) in [
            (late, "declare", format!("filing deadline {deadline}")),
            (debtor, "pay", format!("due date {due}")),
        ] {
            let r = rows
                .iter()
                .find(|r| r.employer_id == e && r.kind == kind)
                .expect("row");
            assert_eq!(r.status, outbox::CANCELLED, "{kind}");
            assert!(r.sent_at.is_none());
            let reason = r.last_error.as_deref().unwrap_or_default();
            assert!(
                reason.starts_with("cancelled")
                    && reason.contains(&why)
                    && reason.contains("passed"),
                "{kind}: {reason}"
            );
        }

        // The overdue reminder, which asks to pay now, takes over the payment side.
        let r = f.plan(&mut conn, due + Duration::days(1));
        assert_eq!(r.queued.get("overdue"), Some(&1), "{r:?}");
        let report = pass_on(&f.pool, &mailer, &cfg, due + Duration::days(1));
        assert_eq!((report.cancelled, report.sent), (0, 1), "{report:?}");
        assert_eq!(
            sink.messages()
                .iter()
                .filter(|m| m["rcpt_tos"][0] == "finance@debtor.example.org")
                .count(),
            1
        );
    })
    .await
    .expect("test thread");
}

/// 催报: after the filing deadline, each employer that has not declared is reminded at
/// each stage reached (the latest only, once), until it declares.
#[tokio::test(flavor = "multi_thread")]
async fn declare_overdue_goes_to_the_undeclared_once_per_stage_until_they_declare() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[]);
        assert_eq!(f.settings.mail.declare_overdue_days_after, vec![1, 15, 30]);
        let book = policy();
        let law = law_2025();
        let deadline = law.filing_deadline.value;
        let mut conn = f.pool.conn().expect("conn");
        let stays = employer(&mut conn, 90, Some("hr@stays.example.org"));
        let declares = employer(&mut conn, 91, Some("hr@declares.example.org"));
        let draft = save(
            &mut conn,
            None,
            NewVersion {
                employer_id: declares,
                levy_year: 2025,
                body_json: "{}",
                body_digest: "test",
                status: Status::Draft,
                actor: "test",
                roster: Vec::new(),
            },
        )
        .expect("draft");
        let filed = employer(&mut conn, 92, Some("hr@filed.example.org"));
        assessed(&mut conn, filed, 2025, 0, &law);

        let templates = Templates::embedded().expect("templates");
        let schedule = Schedule::from_settings(&f.settings.mail);
        let plan_on = |conn: &mut AnyConnection, day: NaiveDate| {
            plan_reminders(
                conn,
                &book,
                &templates,
                &f.settings.mail.payment,
                &schedule,
                2025,
                day,
                f.settings.collection.surcharge_from,
            )
            .expect("plan")
        };
        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");

        // On the deadline itself, nobody is late.
        let r = plan_on(&mut conn, deadline);
        assert_eq!(r.queued.get("declare_overdue"), None, "{r:?}");
        pass_on(&f.pool, &mailer, &cfg, deadline);
        let before = sink.messages().len();

        // The day after: the two undeclared employers (a draft is not filed), once.
        let r = plan_on(&mut conn, deadline + Duration::days(1));
        assert_eq!(r.queued.get("declare_overdue"), Some(&2), "{r:?}");
        for day in [1, 14] {
            let again = plan_on(&mut conn, deadline + Duration::days(day));
            assert_eq!(again.total_queued(), 0, "day {day}: {again:?}");
        }
        let report = pass_on(&f.pool, &mailer, &cfg, deadline + Duration::days(1));
        assert_eq!((report.sent, report.cancelled), (2, 0), "{report:?}");
        let messages = sink.messages();
        assert_eq!(messages.len(), before + 2);
        let m = messages
            .iter()
            .find(|m| {
                m["rcpt_tos"][0] == "hr@stays.example.org"
                    && m["subject"].as_str().is_some_and(|s| s.contains("催报"))
            })
            .expect("the 催报 of the employer that stays undeclared");
        let as_of = deadline + Duration::days(1);
        let zh = text_part(m, "zh-CN");
        assert!(
            zh.contains(&format!(
                "申报截止日期为{deadline}。截至{as_of}，贵单位仍未提交申报"
            )),
            "{zh}"
        );
        assert!(zh.contains("“未申报”"), "the notice's word: {zh}");
        assert!(text_part(m, "en").contains("\"not declared\""));

        // Day 15: the next stage for both; one declares before the mail's turn comes.
        let r = plan_on(&mut conn, deadline + Duration::days(15));
        assert_eq!(r.queued.get("declare_overdue"), Some(&2), "{r:?}");
        set_status(&mut conn, &draft, Status::Submitted, "test").expect("submit");
        let report = pass_on(&f.pool, &mailer, &cfg, deadline + Duration::days(15));
        assert_eq!((report.sent, report.cancelled), (1, 1), "{report:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        let of = |e: i64, stage: &str| {
            rows.iter()
                .find(|r| r.employer_id == e && r.kind == "declare_overdue" && r.stage == stage)
                .unwrap_or_else(|| panic!("{e} {stage}: {rows:?}"))
                .clone()
        };
        assert_eq!(of(stays, "overdue-15").status, outbox::SENT);
        let cancelled = of(declares, "overdue-15");
        assert_eq!(cancelled.status, outbox::CANCELLED);
        assert!(
            cancelled
                .last_error
                .as_deref()
                .is_some_and(|m| m.contains("declaration was filed")),
            "{:?}",
            cancelled.last_error
        );

        // Day 30: only the one still undeclared; and never any for the filed one.
        let r = plan_on(&mut conn, deadline + Duration::days(30));
        assert_eq!(r.queued.get("declare_overdue"), Some(&1), "{r:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        assert!(rows
            .iter()
            .filter(|r| r.kind == "declare_overdue")
            .all(|r| r.employer_id != filed));
        let stages: Vec<&str> = rows
            .iter()
            .filter(|r| r.kind == "declare_overdue" && r.employer_id == stays)
            .map(|r| r.stage.as_str())
            .collect();
        assert_eq!(stages, ["overdue-1", "overdue-15", "overdue-30"]);
        // An employer first reminded late in the season gets the latest stage only; one
        // registered after the levy year did not exist in it, and gets none (as the
        // notice of the year leaves it out).
        let newcomer = employer(&mut conn, 93, Some("hr@new.example.org"));
        let founded_later = employer(&mut conn, 94, Some("hr@later.example.org"));
        {
            use diesel::prelude::*;
            use quota_levy::db::schema::employers as e;
            diesel::update(e::table.filter(e::id.eq(founded_later)))
                .set(e::registered_on.eq(Some(d("2026-01-05"))))
                .execute(&mut *conn)
                .expect("registered in 2026");
        }
        plan_on(&mut conn, deadline + Duration::days(40));
        let rows = outbox::all(&mut conn).expect("rows");
        let got: Vec<&str> = rows
            .iter()
            .filter(|r| r.employer_id == newcomer)
            .map(|r| r.stage.as_str())
            .collect();
        assert_eq!(got, ["overdue-30"]);
        assert!(rows.iter().all(|r| r.employer_id != founded_later));
    })
    .await
    .expect("test thread");
}

/// The overdue mail is worded after the statement: at the cap it says the surcharge
/// grows no more; with the principal paid it asks only for the surcharge.
#[tokio::test(flavor = "multi_thread")]
async fn overdue_mails_say_capped_or_surcharge_only_as_the_statement_does() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[]);
        let book = policy();
        let law = law_2025();
        let due = law.payment_due.value;
        let mut conn = f.pool.conn().expect("conn");
        let capped = employer(&mut conn, 100, Some("finance@capped.example.org"));
        assessed(&mut conn, capped, 2025, 1_000_000, &law);
        let late = employer(&mut conn, 101, Some("finance@late.example.org"));
        assessed(&mut conn, late, 2025, 1_234_567, &law);
        // The whole levy, ten days late: 10 × 5‰ of 12,345.67 = 617.28 is left.
        payment(&mut conn, late, 1_234_567, due + Duration::days(10));
        let row_of = |conn: &mut AnyConnection, n: u32| {
            by_uscc(conn, &uscc_with_check(&format!("91411200MA4{n:06}")))
                .expect("employer")
                .expect("row")
        };

        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let mail_to = |to: &str| {
            sink.messages()
                .into_iter()
                .find(|m| m["rcpt_tos"][0] == to)
                .unwrap_or_else(|| panic!("nothing for {to}"))
        };

        // Day 250: 5‰ a day reached the principal on day 200.
        let as_of = due + Duration::days(250);
        let r = f.plan(&mut conn, as_of);
        assert_eq!(r.queued.get("overdue"), Some(&2), "{r:?}");
        let report = pass_on(&f.pool, &mailer, &cfg, as_of);
        assert_eq!(report.sent, 2, "{report:?}");

        let st = {
            let row = row_of(&mut conn, 100);
            statement(&mut conn, &*book, &row, 2025, as_of).expect("statement")
        };
        assert!(st.surcharge_capped, "{st:?}");
        let cap = st.surcharge_cap.clone().expect("cap");
        assert_eq!(
            (cap.as_str(), st.surcharge.as_str()),
            ("10000.00", "10000.00")
        );
        let m = mail_to("finance@capped.example.org");
        let (zh, en) = (text_part(&m, "zh-CN"), text_part(&m, "en"));
        let subject = m["subject"].as_str().expect("subject");
        for text in [subject, zh, en] {
            assert!(
                !text.contains("每日增加") && !text.contains("for each day"),
                "a capped surcharge does not grow: {text}"
            );
        }
        assert!(
            zh.contains(&format!("滞纳金已达上限{cap}元")) && zh.contains("不再增加"),
            "{zh}"
        );
        assert!(
            zh.contains(&format!(
                "尚未缴纳的保障金{}元仍须缴纳",
                st.outstanding_principal
            )),
            "{zh}"
        );
        assert!(
            zh.contains(&format!("合计尚欠：{} 元", st.outstanding)),
            "{zh}"
        );
        assert!(
            en.contains(&format!("reached its cap of {cap} yuan")),
            "{en}"
        );

        let st = {
            let row = row_of(&mut conn, 101);
            statement(&mut conn, &*book, &row, 2025, as_of).expect("statement")
        };
        assert_eq!(st.outstanding_principal, "0.00");
        assert_eq!(st.outstanding_surcharge, "617.28");
        let m = mail_to("finance@late.example.org");
        let (zh, en) = (text_part(&m, "zh-CN"), text_part(&m, "en"));
        let subject = m["subject"].as_str().expect("subject");
        for text in [subject, zh] {
            assert!(
                !text.contains("已逾期") && !text.contains("每日增加"),
                "the levy is paid, only its surcharge is owed: {text}"
            );
        }
        assert!(!en.contains("overdue"), "{en}");
        assert!(
            subject.contains(&format!("尚欠滞纳金{}元", st.outstanding_surcharge)),
            "{subject}"
        );
        assert!(zh.contains("保障金已经缴清"), "{zh}");
        assert!(
            zh.contains(&format!("尚欠滞纳金：{} 元", st.outstanding_surcharge)),
            "{zh}"
        );
        assert!(
            en.contains(&format!(
                "Surcharge outstanding:  {} yuan",
                st.outstanding_surcharge
            )),
            "{en}"
        );
    })
    .await
    .expect("test thread");
}

/// Every pay and overdue mail says how and where to pay: the configured instructions of
/// the employer's region, or, with none, to ask the tax office — never an invented
/// account.
#[tokio::test(flavor = "multi_thread")]
async fn pay_and_overdue_mails_carry_the_regions_payment_instructions_or_the_fallback() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let configured: Vec<(&str, &str)> = vec![
            ("QUOTA_LEVY__MAIL__PAYMENT__411200__PAYEE", "测试收款单位"),
            (
                "QUOTA_LEVY__MAIL__PAYMENT__411200__BANK",
                "测试银行三门峡分行",
            ),
            (
                "QUOTA_LEVY__MAIL__PAYMENT__411200__ACCOUNT",
                "6222 0000 1111 2222",
            ),
            (
                "QUOTA_LEVY__MAIL__PAYMENT__411200__ETAX_URL",
                "https://etax.example.org/henan",
            ),
            (
                "QUOTA_LEVY__MAIL__PAYMENT__411200__TAX_OFFICE",
                "测试税务局",
            ),
            (
                "QUOTA_LEVY__MAIL__PAYMENT__411200__TAX_OFFICE_ADDRESS",
                "三门峡市测试路1号",
            ),
            (
                "QUOTA_LEVY__MAIL__PAYMENT__411200__TAX_OFFICE_PHONE",
                "0398-1234567",
            ),
        ];
        let law = law_2025();
        let due = law.payment_due.value;
        for with_config in [true, false] {
            let f = fixture(&sink, if with_config { &configured } else { &[] });
            assert_eq!(f.settings.mail.payment.0.len(), usize::from(with_config));
            let mut conn = f.pool.conn().expect("conn");
            let n = if with_config { 110 } else { 120 };
            let to = format!("finance{n}@example.org");
            let e = employer(&mut conn, n, Some(&to));
            assessed(&mut conn, e, 2025, 1_000_000, &law);
            let mailer = mailer(&f.settings);
            let cfg = PassConfig::from_settings(&f.settings.mail, "t");
            for (day, kind) in [
                (due - Duration::days(7), "pay"),
                (due + Duration::days(30), "overdue"),
            ] {
                let r = f.plan(&mut conn, day);
                assert_eq!(r.queued.get(kind), Some(&1), "{r:?}");
                assert_eq!(pass_on(&f.pool, &mailer, &cfg, day).sent, 1);
            }
            let mails: Vec<Value> = sink
                .messages()
                .into_iter()
                .filter(|m| m["rcpt_tos"][0] == to.as_str())
                .collect();
            assert_eq!(mails.len(), 2, "a pay and an overdue mail");
            for m in &mails {
                let (zh, en) = (text_part(m, "zh-CN"), text_part(m, "en"));
                if with_config {
                    for line in [
                        "https://etax.example.org/henan",
                        "收款单位：测试收款单位",
                        "开户银行：测试银行三门峡分行",
                        "账号：6222 0000 1111 2222",
                        "主管税务机关：测试税务局",
                        "地址：三门峡市测试路1号",
                        "电话：0398-1234567",
                    ] {
                        assert!(zh.contains(line), "{line} not in {zh}");
                    }
                    assert!(en.contains("Account:  6222 0000 1111 2222"), "{en}");
                    assert!(!zh.contains("咨询缴款方式"), "{zh}");
                } else {
                    assert!(
                        zh.contains("请向贵单位所在地的主管税务机关咨询缴款方式和收款账户"),
                        "{zh}"
                    );
                    assert!(en.contains("please ask your local tax office"), "{en}");
                    assert!(!zh.contains("账号") && !en.contains("Account:"), "{zh}");
                }
            }
        }
    })
    .await
    .expect("test thread");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overdue_mail_made_stale_by_a_partial_payment_is_superseded_by_a_fresh_one() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[]);
        let book = policy();
        let law = law_2025();
        let due = law.payment_due.value;
        let mut conn = f.pool.conn().expect("conn");
        let e = employer(&mut conn, 60, Some("finance@partial.example.org"));
        assessed(&mut conn, e, 2025, 1_234_567, &law);
        let employer_row = by_uscc(&mut conn, &uscc_with_check("91411200MA4000060"))
            .expect("employer")
            .expect("row");

        let as_of = due + Duration::days(30);
        let r = f.plan(&mut conn, as_of);
        assert_eq!(r.queued.get("overdue"), Some(&1), "{r:?}");
        let stale = statement(&mut conn, &*book, &employer_row, 2025, as_of).expect("statement");

        // Part paid the same day, after the mail was rendered: its figures are stale.
        payment(&mut conn, e, 234_567, as_of);
        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let report = pass_on(&f.pool, &mailer, &cfg, as_of);
        assert_eq!((report.cancelled, report.sent), (1, 0), "{report:?}");
        assert!(sink.messages().is_empty(), "the stale text was not sent");
        let old = outbox::all(&mut conn).expect("rows").remove(0);
        assert_eq!(old.status, outbox::CANCELLED);
        assert!(
            old.last_error
                .as_deref()
                .is_some_and(|m| m.starts_with("superseded")),
            "{:?}",
            old.last_error
        );
        // It gave its stage up...
        assert_eq!(old.stage, format!("overdue-30~superseded-{}", old.id));

        // ...so the next planning pass queues overdue-30 again, with the figures of now.
        let r = f.plan(&mut conn, as_of);
        assert_eq!(r.queued.get("overdue"), Some(&1), "{r:?}");
        let report = pass_on(&f.pool, &mailer, &cfg, as_of);
        assert_eq!((report.cancelled, report.sent), (0, 1), "{report:?}");
        let messages = sink.messages();
        assert_eq!(messages.len(), 1);
        let st = statement(&mut conn, &*book, &employer_row, 2025, as_of).expect("statement");
        assert_ne!(st.outstanding, stale.outstanding);
        let zh = text_part(&messages[0], "zh-CN");
        for line in [
            "已缴金额：2345.67 元".to_owned(),
            format!("滞纳金（截至{as_of}）：{} 元", st.surcharge),
            format!("合计尚欠：{} 元", st.outstanding),
        ] {
            assert!(zh.contains(&line), "{line} not in {zh}");
        }
        assert!(!zh.contains(&stale.outstanding), "{zh}");
        let rows = outbox::all(&mut conn).expect("rows");
        let fresh = rows
            .iter()
            .find(|r| r.stage == "overdue-30")
            .expect("fresh");
        assert_eq!(fresh.status, outbox::SENT);
        let c = outbox::counts(&mut conn).expect("counts");
        assert_eq!((c.sent, c.cancelled), (1, 1));
    })
    .await
    .expect("test thread");
}

/// Stops the SMTP server after `after` messages: the server going down mid-run.
struct KillAfter {
    inner: SmtpMailTransport,
    sent: AtomicUsize,
    after: usize,
    sink: Arc<Mutex<SmtpSink>>,
}

impl MailTransport for KillAfter {
    fn send(&self, message: &lettre::Message) -> Result<(), SendError> {
        if self.sent.load(Ordering::SeqCst) == self.after {
            if let Ok(mut s) = self.sink.lock() {
                s.stop();
            }
        }
        let r = self.inner.send(message);
        if r.is_ok() {
            self.sent.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_queued_while_the_server_is_down_are_delivered_once_when_it_returns() {
    tokio::task::spawn_blocking(|| {
        let sink = Arc::new(Mutex::new(SmtpSink::start()));
        let f = {
            let s = sink.lock().expect("sink");
            fixture(&s, &[("QUOTA_LEVY__MAIL__BATCH_SIZE", "5")])
        };
        let mut conn = f.pool.conn().expect("conn");
        let employers: Vec<i64> = (0..3)
            .map(|n| employer(&mut conn, 10 + n, Some("hr@example.org")))
            .collect();
        for i in 0..6 {
            outbox::enqueue(&mut conn, &reminder(employers[i % 3], i)).expect("enqueue");
        }
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let smtp = mailer(&f.settings);
        let t0 = Utc::now().naive_utc();

        // The server goes down after 4 messages, in the middle of the first pass.
        let killer = Mailer {
            transport: Arc::new(KillAfter {
                inner: SmtpMailTransport::new(&f.settings.mail).expect("transport"),
                sent: AtomicUsize::new(0),
                after: 4,
                sink: sink.clone(),
            }),
            sender: smtp.sender.clone(),
        };
        let r = pass(&f.pool, &killer, &cfg, t0);
        assert_eq!(r.sent, 4, "{r:?}");
        assert!(r.unreachable, "{r:?}");

        // More reminders are queued while it is down; a pass sends nothing, loses nothing.
        for i in 6..12 {
            outbox::enqueue(&mut conn, &reminder(employers[i % 3], i)).expect("enqueue");
        }
        let r = pass(&f.pool, &smtp, &cfg, t0 + Duration::seconds(1));
        assert_eq!(r.sent, 0);
        assert!(r.unreachable);
        let c = outbox::counts(&mut conn).expect("counts");
        assert_eq!((c.pending, c.sent, c.dead), (8, 4, 0));
        assert!(
            outbox::all(&mut conn)
                .expect("rows")
                .iter()
                .filter(|r| r.status == outbox::PENDING)
                .all(|r| r.attempts == 0 && r.locked_by.is_none()),
            "an outage is not counted against a reminder"
        );

        // Back up; once the back-off has passed, everything goes out, exactly once.
        sink.lock().expect("sink").restart();
        let later = t0 + cfg.backoff_base + Duration::seconds(5);
        let r = pass(&f.pool, &smtp, &cfg, later);
        assert_eq!(r.sent, 8, "{r:?}");
        assert_eq!(pass(&f.pool, &smtp, &cfg, later).claimed, 0);

        let per_id = sink.lock().expect("sink").per_message_id();
        assert_eq!(per_id.len(), 12, "{per_id:?}");
        assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        for row in &rows {
            assert_eq!(row.status, outbox::SENT);
            assert!(per_id.contains_key(&format!("<reminder-{}@example.org>", row.id)));
        }
    })
    .await
    .expect("test thread");
}

/// A transport that takes its time, so that two workers' passes surely overlap.
struct Slow(SmtpMailTransport);

impl MailTransport for Slow {
    fn send(&self, message: &lettre::Message) -> Result<(), SendError> {
        std::thread::sleep(std::time::Duration::from_millis(10));
        self.0.send(message)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_racing_on_one_database_deliver_each_reminder_once() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[("QUOTA_LEVY__MAIL__BATCH_SIZE", "3")]);
        let n = 40;
        {
            let mut conn = f.pool.conn().expect("conn");
            let employers: Vec<i64> = (0..4)
                .map(|k| employer(&mut conn, 20 + k, Some("hr@example.org")))
                .collect();
            for i in 0..n {
                outbox::enqueue(&mut conn, &reminder(employers[i % 4], i)).expect("enqueue");
            }
        }
        let start = Arc::new(Barrier::new(2));
        let workers: Vec<_> = (0..2)
            .map(|w| {
                // Each worker has its own pool, as two `serve` processes would.
                let db = open(&f.url, &f.settings);
                let mailer = Mailer {
                    transport: Arc::new(Slow(
                        SmtpMailTransport::new(&f.settings.mail).expect("transport"),
                    )),
                    sender: Sender::from_settings(&f.settings).expect("sender"),
                };
                let cfg = PassConfig::from_settings(&f.settings.mail, &format!("w{w}"));
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    let r = run_pass(
                        &db,
                        &mailer,
                        &cfg,
                        &|| Utc::now().naive_utc(),
                        &quota_levy::clock::china_today,
                        &AtomicBool::new(false),
                    )
                    .expect("pass");
                    (cfg.worker_id, r)
                })
            })
            .collect();
        let reports: Vec<_> = workers
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect();
        let sent: u64 = reports.iter().map(|(_, r)| r.sent).sum();
        assert_eq!(sent, n as u64, "{reports:?}");
        assert!(
            reports.iter().all(|(_, r)| r.lease_lost == 0),
            "{reports:?}"
        );
        assert!(
            reports.iter().all(|(_, r)| r.sent > 0),
            "both workers took part: {reports:?}"
        );

        let per_id = sink.per_message_id();
        assert_eq!(per_id.len(), n, "{per_id:?}");
        assert!(
            per_id.values().all(|c| *c == 1),
            "a reminder was sent twice: {per_id:?}"
        );
        let c = outbox::counts(&mut f.pool.conn().expect("conn")).expect("counts");
        assert_eq!((c.pending, c.sent), (0, n as i64));
    })
    .await
    .expect("test thread");
}

fn bin(f: &Fixture, sink: &SmtpSink) -> Command {
    let mut c = crate::helpers::bin(Some(&f.url));
    c.env("QUOTA_LEVY__MAIL__BATCH_SIZE", "2").envs(sink.env());
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_plans_then_two_processes_send_each_once_and_a_down_server_exits_1() {
    tokio::task::spawn_blocking(|| {
        let mut sink = SmtpSink::start();
        let f = fixture(&sink, &[]);
        let book = policy();
        // `reminders run` checks each reminder on today's date in China, so the levy
        // year is one whose filing deadline is still ahead: next year's.
        let year = quota_levy::clock::china_today().year() + 1;
        let law = book
            .resolve(
                "411200".parse().expect("region"),
                NaiveDate::from_ymd_opt(year, 6, 30).expect("date"),
                year - 1,
            )
            .expect("policy");
        {
            let mut conn = f.pool.conn().expect("conn");
            for k in 0..12 {
                employer(&mut conn, 30 + k, Some(&format!("hr{k}@example.org")));
            }
        }
        let as_of = (law.filing_deadline.value - Duration::days(30)).to_string();
        let out = bin(&f, &sink)
            .args([
                "reminders",
                "plan",
                "--levy-year",
                &year.to_string(),
                "--as-of",
                &as_of,
            ])
            .output()
            .expect("plan");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("queued declare") && text.contains("12"),
            "{text}"
        );

        sink.stop();
        let out = bin(&f, &sink)
            .args(["reminders", "run"])
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("could not be reached"));
        sink.restart();
        // The back-off (60 s by default) still holds the reminders: make them due now.
        {
            let mut conn = f.pool.conn().expect("conn");
            use diesel::prelude::*;
            use quota_levy::db::schema::outbox as o;
            diesel::update(o::table)
                .set(o::next_attempt_at.eq(Utc::now().naive_utc() - Duration::seconds(1)))
                .execute(&mut *conn)
                .expect("due now");
        }

        let children: Vec<Child> = (0..2)
            .map(|_| {
                bin(&f, &sink)
                    .args(["reminders", "run"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn run")
            })
            .collect();
        let mut sent = 0;
        for c in children {
            let out = c.wait_with_output().expect("wait");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            sent += text
                .lines()
                .find_map(|l| l.strip_prefix("sent "))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .expect("sent count");
        }
        assert_eq!(sent, 12);
        let per_id = sink.per_message_id();
        assert_eq!(per_id.len(), 12);
        assert!(per_id.values().all(|c| *c == 1), "{per_id:?}");
        let out = bin(&f, &sink)
            .args(["reminders", "status"])
            .output()
            .expect("status");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("pending 0") && text.contains("sent 12"),
            "{text}"
        );
    })
    .await
    .expect("test thread");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_the_reminder_worker() {
    let sink = SmtpSink::start();
    let (db, url) = TestDb::create();
    let mut env = sink.env();
    env.push(("QUOTA_LEVY__MAIL__ENABLED".into(), "true".into()));
    env.push(("QUOTA_LEVY__MAIL__POLL_INTERVAL_SECS".into(), "1".into()));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let settings = test_settings(&url, &refs);
    let pool = open(&url, &settings);
    let p = pool.clone();
    tokio::task::spawn_blocking(move || {
        p.migrate().expect("migrate");
        let mut conn = p.conn().expect("conn");
        // No contact address on the employer: planning leaves it alone, so only the
        // reminder queued here is sent.
        let e = employer(&mut conn, 40, None);
        outbox::enqueue(&mut conn, &reminder(e, 1)).expect("enqueue");
    })
    .await
    .expect("setup");
    let app =
        quota_levy::http::Application::build(settings, pool.clone(), policy()).expect("build");
    tokio::spawn(app.run_until_stopped());
    for _ in 0..200 {
        if !sink.messages().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "the worker inside serve sent nothing");
    assert_eq!(messages[0]["rcpt_tos"][0], "finance1@example.org");
    assert!(text_part(&messages[0], "zh-CN").contains("1001.00"));
    drop(db);
}

/// A CA of our own and a certificate it signed for `localhost`, made with openssl: the
/// mail server of an authority often has an in-house certificate.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn generate() -> Pki {
        let dir = tempfile::tempdir().expect("temp dir");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=quota-levy test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
        );
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext file");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// The server's mode arguments for tests/smtp_sink.py.
    fn mode(&self, mode: &str) -> Vec<String> {
        vec![
            mode.to_owned(),
            self.path("server.pem"),
            self.path("server.key"),
        ]
    }
}

/// One reminder queued for a fresh employer, one pass right after: what the pass did.
fn send_one(f: &Fixture) -> quota_levy::mail::PassReport {
    let mut conn = f.pool.conn().expect("conn");
    let e = employer(&mut conn, 70, Some("hr@example.org"));
    outbox::enqueue(&mut conn, &reminder(e, 70)).expect("enqueue");
    let cfg = PassConfig::from_settings(&f.settings.mail, "t");
    let smtp = Mailer {
        transport: Arc::new(SmtpMailTransport::new(&f.settings.mail).expect("transport")),
        sender: Sender::from_settings(&f.settings).expect("sender"),
    };
    pass(
        &f.pool,
        &smtp,
        &cfg,
        Utc::now().naive_utc() + Duration::seconds(1),
    )
}

#[tokio::test]
async fn starttls_and_implicit_tls_to_a_server_of_an_in_house_ca() {
    tokio::task::spawn_blocking(|| {
        let pki = Pki::generate();
        let ca = pki.path("ca.pem");
        let tls_env = |mode: &str, ca: &str| -> Vec<(String, String)> {
            vec![
                ("QUOTA_LEVY__MAIL__SMTP_HOST".into(), "localhost".into()),
                ("QUOTA_LEVY__MAIL__SMTP_TLS".into(), mode.into()),
                ("QUOTA_LEVY__MAIL__SMTP_CA_FILE".into(), ca.into()),
            ]
        };
        let with = |sink: &SmtpSink, env: &[(String, String)]| {
            let refs: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            fixture(sink, &refs)
        };

        // STARTTLS, the CA trusted: delivered, encrypted.
        let mode = pki.mode("starttls");
        let modes: Vec<&str> = mode.iter().map(String::as_str).collect();
        let sink = SmtpSink::start_mode(&modes);
        let f = with(&sink, &tls_env("starttls", &ca));
        let r = send_one(&f);
        assert_eq!(r.sent, 1, "{r:?}");
        let got = sink.messages();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["tls"], true, "{}", got[0]);
        assert_eq!(got[0]["rcpt_tos"][0], "finance70@example.org");

        // The same server without trusting its CA: the certificate is refused, nothing
        // is sent and the reminder waits, uncounted, as for a server that is down.
        let f = with(&sink, &tls_env("starttls", ""));
        let r = send_one(&f);
        assert_eq!(r.sent, 0, "{r:?}");
        let c = outbox::counts(&mut f.pool.conn().expect("conn")).expect("counts");
        assert_eq!((c.pending, c.sent), (1, 0));
        assert_eq!(sink.messages().len(), 1, "nothing more arrived");

        // "none" against a server that requires STARTTLS: refused, never sent in clear.
        let f = with(&sink, &tls_env("none", ""));
        assert_eq!(send_one(&f).sent, 0);
        assert_eq!(sink.messages().len(), 1);
        drop(sink);

        // "starttls" against a server that does not offer it: not sent in clear either.
        let plain = SmtpSink::start();
        let f = with(&plain, &tls_env("starttls", &ca));
        assert_eq!(send_one(&f).sent, 0);
        assert!(plain.messages().is_empty());
        drop(plain);

        // Implicit TLS (port 465 style).
        let mode = pki.mode("tls");
        let modes: Vec<&str> = mode.iter().map(String::as_str).collect();
        let sink = SmtpSink::start_mode(&modes);
        let f = with(&sink, &tls_env("tls", &ca));
        let r = send_one(&f);
        assert_eq!(r.sent, 1, "{r:?}");
        assert_eq!(sink.messages()[0]["tls"], true);
    })
    .await
    .expect("test thread");
}

/// Two real `quota-levy serve` processes with the reminder worker on one database (on
/// PostgreSQL with QUOTA_LEVY_TEST_POSTGRES_URL): every reminder reaches the SMTP
/// server exactly once, and both processes took part.
#[tokio::test]
async fn two_serve_processes_on_one_database_send_each_reminder_once() {
    const N: usize = 200;
    let sink = SmtpSink::start();
    let (db, url) = TestDb::create();
    let settings = test_settings(&url, &[]);
    let pool = open(&url, &settings);
    let p = pool.clone();
    // No contact address: planning queues nothing of its own.
    let e = tokio::task::spawn_blocking(move || {
        p.migrate().expect("migrate");
        employer(&mut p.conn().expect("conn"), 50, None)
    })
    .await
    .expect("setup");

    let free_port = || {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    };
    let serve = |port: u16| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_quota-levy"));
        for (k, _) in std::env::vars() {
            if k.starts_with("QUOTA_LEVY__") {
                c.env_remove(k);
            }
        }
        for (k, v) in sink.env() {
            c.env(k, v);
        }
        c.env("QUOTA_LEVY__DATABASE__URL", &url)
            .env("QUOTA_LEVY__SERVER__PORT", port.to_string())
            .env("QUOTA_LEVY__SERVER__WORKERS", "1")
            .env("QUOTA_LEVY__LOG__LEVEL", "warn")
            .env("QUOTA_LEVY__MAIL__ENABLED", "true")
            .env("QUOTA_LEVY__MAIL__POLL_INTERVAL_SECS", "1")
            .env("QUOTA_LEVY__MAIL__BATCH_SIZE", "5")
            .env("QUOTA_LEVY__MAIL__PLAN_INTERVAL_SECS", "86400")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start quota-levy serve")
    };
    let ports = [free_port(), free_port()];
    let mut first = serve(ports[0]);
    let mut second = serve(ports[1]);
    // Both up and polling before the first reminder exists, so that they race.
    let client = reqwest::Client::new();
    for port in ports {
        let mut up = false;
        for _ in 0..300 {
            let r = client
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await;
            if r.is_ok_and(|r| r.status() == 200) {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(up, "serve on port {port} did not come up");
    }
    let p = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = p.conn().expect("conn");
        diesel::Connection::transaction(&mut *conn, |c| {
            for i in 0..N {
                outbox::enqueue(c, &reminder(e, i))?;
            }
            Ok::<_, quota_levy::db::DbError>(())
        })
        .expect("enqueue");
    })
    .await
    .expect("enqueue");

    let mut rows = Vec::new();
    for _ in 0..900 {
        let p = pool.clone();
        rows = tokio::task::spawn_blocking(move || outbox::all(&mut p.conn().expect("conn")))
            .await
            .expect("join")
            .expect("rows");
        if rows.iter().all(|r| r.status == outbox::SENT) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A moment more: a duplicate would arrive now, if there were one.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for child in [&mut first, &mut second] {
        let _ = child.kill();
        let _ = child.wait();
    }

    let sent = rows.iter().filter(|r| r.status == outbox::SENT).count();
    assert_eq!(sent, N, "every reminder sent");
    let per_id = sink.per_message_id();
    assert_eq!(per_id.len(), N, "{} distinct messages", per_id.len());
    assert!(per_id.values().all(|n| *n == 1), "a reminder arrived twice");
    let workers: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r.locked_by.as_deref()).collect();
    assert!(
        workers.len() >= 2,
        "both processes must have sent some: {workers:?}"
    );
    drop(db);
}

/// docs/rules.md §6a: no overdue mail while an approved deferral runs; once it has passed,
/// the overdue stages count from the new due date.
#[tokio::test]
async fn no_overdue_mail_during_an_approved_deferral() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[NO_CATCH_UP]);
        let law = law_2025();
        let due = law.payment_due.value;
        let mut conn = f.pool.conn().expect("conn");
        let e = employer(&mut conn, 61, Some("finance@deferred.example.org"));
        assessed(&mut conn, e, 2025, 1_000_000, &law);
        let deferred_to = due + Duration::days(90);
        quota_levy::db::hardship::replace(
            &mut conn,
            &quota_levy::db::hardship::NewHardship {
                employer_id: e,
                levy_year: 2025,
                kind: "deferral".into(),
                decision: "approved".into(),
                amount_fen: None,
                deferred_to: Some(deferred_to),
                applied_on: due - Duration::days(20),
                decided_on: due - Duration::days(10),
                reason: "洪灾".into(),
                decided_by: "tax".into(),
                recorded_at: Utc::now().naive_utc(),
            },
        )
        .expect("decision");
        let r = f.plan(&mut conn, due + Duration::days(30));
        assert_eq!(r.queued.get("overdue"), None, "deferred: {r:?}");
        let r = f.plan(&mut conn, deferred_to + Duration::days(30));
        assert_eq!(r.queued.get("overdue"), Some(&1), "{r:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        assert!(rows.iter().any(|r| r.stage == "overdue-30"), "{rows:?}");
    })
    .await
    .expect("test thread");
}

/// A public body (`kind`: government agency or public institution) of 三门峡 with
/// `email`.
fn public_body(conn: &mut AnyConnection, n: u32, kind: &str, email: Option<&str>) -> i64 {
    let now = Utc::now().naive_utc();
    let prefix = if kind == "government_agency" {
        "11"
    } else {
        "12"
    };
    insert(
        conn,
        &NewEmployer {
            uscc: uscc_with_check(&format!("{prefix}411200MB5{n:06}")),
            name: format!("三门峡第{n}测试单位"),
            kind: kind.into(),
            region: "411200".into(),
            registered_on: None,
            contact_email: email.map(str::to_owned),
            establishment_size: Some(80),
            committee_member: false,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("insert employer")
    .expect("new employer")
    .id
}

/// A reserved position of `employer_id` with `status`, open from `from` to `to`.
fn reserved(conn: &mut AnyConnection, employer_id: i64, status: &str, from: &str, to: &str) {
    let now = Utc::now().naive_utc();
    quota_levy::db::positions::insert(
        conn,
        &quota_levy::db::positions::NewPosition {
            employer_id,
            title: "档案管理员".into(),
            openings: 1,
            county: "411202".into(),
            address: "湖滨区崤山路 1 号".into(),
            requirements: "能使用电脑".into(),
            accessibility: "一楼办公".into(),
            wage_min_fen: 250_000,
            wage_max_fen: 350_000,
            open_from: d(from),
            open_to: d(to),
            contact_phone: Some("0398-2912345".into()),
            contact_email: None,
            status: status.into(),
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
        },
    )
    .expect("position");
}

#[tokio::test(flavor = "multi_thread")]
async fn public_bodies_without_a_disabled_employee_or_a_reserved_position_are_asked_once_a_year() {
    tokio::task::spawn_blocking(|| {
        let sink = SmtpSink::start();
        let f = fixture(&sink, &[NO_CATCH_UP]);
        let law = law_2025();
        let day = d("2025-06-30");
        let mut conn = f.pool.conn().expect("conn");
        // Assessed with no disabled employee (and nothing payable, so no pay mail).
        let asked = public_body(
            &mut conn,
            1,
            "government_agency",
            Some("office@asked.gov.cn"),
        );
        let answers = public_body(
            &mut conn,
            2,
            "public_institution",
            Some("hr@answers.org.cn"),
        );
        let published = public_body(&mut conn, 3, "public_institution", Some("hr@pub.org.cn"));
        let pending = public_body(
            &mut conn,
            4,
            "government_agency",
            Some("office@pend.gov.cn"),
        );
        let expired = public_body(&mut conn, 5, "government_agency", Some("office@old.gov.cn"));
        let firm = employer(&mut conn, 6, Some("hr@firm.example.org"));
        // Not assessed: whether it employs a disabled person is not known yet.
        public_body(&mut conn, 7, "government_agency", Some("office@new.gov.cn"));
        for id in [asked, answers, published, pending, expired, firm] {
            assessed(&mut conn, id, 2025, 0, &law);
        }
        // Open and published, awaiting review, or past its last day.
        reserved(
            &mut conn,
            published,
            "published",
            "2025-06-01",
            "2025-12-31",
        );
        reserved(&mut conn, pending, "submitted", "2025-07-01", "2025-12-31");
        reserved(&mut conn, expired, "published", "2025-01-01", "2025-05-31");

        let r = f.plan(&mut conn, day);
        assert_eq!(r.queued.get("reserve_position"), Some(&3), "{r:?}");
        assert_eq!(r.total_queued(), 3, "nothing else is due: {r:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        let mut to: Vec<i64> = rows.iter().map(|r| r.employer_id).collect();
        to.sort_unstable();
        assert_eq!(to, [asked, answers, expired]);
        assert!(rows.iter().all(|r| r.stage == "reserve-2025"));
        // Once a year: planning again, even on another day, queues nothing new.
        let again = f.plan(&mut conn, day + Duration::days(40));
        assert_eq!(again.total_queued(), 0, "{again:?}");
        assert_eq!(again.already_queued, 3);

        // Before the mail goes, one of them registers a position: its mail is moot.
        reserved(&mut conn, answers, "submitted", "2025-07-01", "2025-09-30");
        let mailer = mailer(&f.settings);
        let cfg = PassConfig::from_settings(&f.settings.mail, "t");
        let report = pass_on(&f.pool, &mailer, &cfg, day);
        assert_eq!((report.sent, report.cancelled), (2, 1), "{report:?}");
        let rows = outbox::all(&mut conn).expect("rows");
        let cancelled = rows.iter().find(|r| r.employer_id == answers).expect("row");
        assert_eq!(cancelled.status, outbox::CANCELLED);
        assert!(cancelled
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("position is reserved")));

        let messages = sink.messages();
        assert_eq!(messages.len(), 2);
        let m = messages
            .iter()
            .find(|m| m["rcpt_tos"][0] == "office@asked.gov.cn")
            .expect("the body asked");
        let subject = m["subject"].as_str().expect("subject");
        assert!(subject.contains("岗位预留") && subject.contains("reserve a position"));
        let zh = text_part(m, "zh-CN");
        assert!(zh.contains("三门峡第1测试单位") && zh.contains("2025年度尚未安排残疾人就业"));
        assert!(text_part(m, "en").contains("employed no disabled person in 2025"));
        assert!(messages
            .iter()
            .all(|m| m["rcpt_tos"][0] != "hr@firm.example.org"));
    })
    .await
    .expect("test thread");
}
