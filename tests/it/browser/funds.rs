//! Rewards and reserved positions in a real browser. A federation officer approves
//! over-quota rewards on `/federation/rewards` (two ticked and approved with one button,
//! one alone), refuses one with a reason (first without: the page says a reason is
//! needed), and the employer's statement shows the reward approved, then paid. An
//! employer reserves a position on `/my/positions` (a mobile number refused beside its
//! field), the federation publishes it from its review page (a rejection without a
//! reason refused beside the field), it appears on the public `/positions` page, the
//! employer closes it as filled by a roster line, and it is gone — no page showing
//! anything of the person. Every page is checked at 390 px and with axe-core, and
//! photographed into `target/screenshots/`.

use super::federation::{click, heading, shown};
use super::{browser, Browser};
use crate::helpers::web::{person, PASSWORD};
use crate::helpers::{declaration_body, spawn_app_with, uscc_with_check, TestApp, CERT_A};
use crate::rewards::{uscc, Guizhou};
use fantoccini::Locator;
use quota_levy::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// Signs `username` in through the form, from a browser without a session.
async fn sign_in_as(b: &Browser, app: &TestApp, username: &str) {
    b.c().delete_all_cookies().await.unwrap();
    b.c().goto(&app.url("/login")).await.unwrap();
    b.fill("username", username).await;
    b.fill("password", PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;
}

/// The text of the article (one reward or position) that mentions `needle`.
async fn article_with(b: &Browser, needle: &str) -> String {
    for a in b
        .c()
        .find_all(Locator::Css("article.position"))
        .await
        .unwrap()
    {
        let t = a.text().await.unwrap();
        if t.contains(needle) {
            return t;
        }
    }
    panic!("no article with {needle}");
}

async fn page_text(b: &Browser) -> String {
    b.c().source().await.unwrap()
}

#[tokio::test]
async fn browser_the_federation_decides_rewards_and_the_employer_sees_them_approved_and_paid() {
    let Some(b) = browser(
        "browser_the_federation_decides_rewards_and_the_employer_sees_them_approved_and_paid",
    )
    .await
    else {
        return;
    };
    let g = Guizhou::new().await;
    let (a, bb, c, d) = (uscc(51), uscc(52), uscc(53), uscc(54));
    let mut reward = String::new();
    for u in [&a, &bb, &c, &d] {
        reward = g.assessed(u, "enterprise", "5").await["reward"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    person(
        &g.app,
        "fed-browser-gz",
        Role::Federation,
        None,
        Some("520000"),
    )
    .await;
    person(&g.app, "emp-browser-gz", Role::Employer, Some(&a), None).await;

    // Asking for the rewards leads to the sign-in, which comes back to them.
    b.c()
        .goto(
            &g.app
                .url("/federation/rewards?region=520000&levy_year=2025"),
        )
        .await
        .unwrap();
    b.fill("username", "fed-browser-gz").await;
    b.fill("password", PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;
    heading(&b, "超比例安排残疾人就业奖励审核").await;
    b.check("federation-rewards").await;

    // Two ticked, approved with one button.
    click(&b, &format!("#pick-{a}")).await;
    click(&b, &format!("#pick-{bb}")).await;
    b.click_through("#bulk button[type=submit]").await;
    assert!(b
        .text_of("p[role=status]")
        .await
        .contains("已批准奖励的单位数： 2"));
    // A refusal without a reason is refused; with one it is recorded.
    let refuse = format!("form:has(input[name=uscc][value='{c}']) button[value=refuse]");
    b.click_through(&refuse).await;
    assert!(b
        .text_of("p.error[role=alert]")
        .await
        .contains("不予奖励须填写理由"));
    b.c()
        .find(Locator::Css(&format!("#reason-{c}")))
        .await
        .unwrap()
        .send_keys("残疾职工社会保险未足额缴纳")
        .await
        .unwrap();
    b.click_through(&refuse).await;
    shown(&b, "p[role=status]").await;
    // The last one alone.
    b.click_through(&format!(
        "form:has(input[name=uscc][value='{d}']) button[value=approve]"
    ))
    .await;
    for (u, want) in [
        (&a, "已批准"),
        (&bb, "已批准"),
        (&c, "不予奖励"),
        (&d, "已批准"),
    ] {
        let t = article_with(&b, u).await;
        assert!(t.contains(&format!("状态 {want}")), "{u}: {t}");
    }
    assert!(article_with(&b, &c)
        .await
        .contains("残疾职工社会保险未足额缴纳"));
    b.check("federation-rewards-decided").await;
    b.c()
        .goto(
            &g.app
                .url("/federation/rewards?region=520000&levy_year=2025&lang=en"),
        )
        .await
        .unwrap();
    assert!(article_with(&b, &c).await.contains("status refused"));
    b.check("federation-rewards-en").await;

    // The employer's statement shows the reward approved; once paid, paid.
    sign_in_as(&b, &g.app, "emp-browser-gz").await;
    let statement = g.app.url(&format!("/my/{a}/statement/2025"));
    b.c().goto(&statement).await.unwrap();
    assert_eq!(b.text_of("#reward-status").await, "已批准");
    assert_eq!(b.text_of("#reward-paid").await, "0.00");
    b.check("my-statement-reward-approved").await;
    let (s, p, _) = g
        .pay(
            &a,
            "browser-1",
            json!({"paid_on": "2026-03-02", "reference": "ZJ-2026-0201"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    b.c().goto(&statement).await.unwrap();
    assert_eq!(b.text_of("#reward-status").await, "已发放");
    assert_eq!(b.text_of("#reward-paid").await, reward);
    assert!(b.text_of("#reward-payouts").await.contains("ZJ-2026-0201"));
    b.check("my-statement-reward-paid").await;
    b.c().clone().close().await.unwrap();
}

#[tokio::test]
async fn browser_a_reserved_position_is_published_then_closed_as_filled_and_leaves_the_public_page()
{
    let Some(b) = browser(
        "browser_a_reserved_position_is_published_then_closed_as_filled_and_leaves_the_public_page",
    )
    .await
    else {
        return;
    };
    let app = spawn_app_with(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    let admin = app.admin().await;
    let agency = uscc_with_check("11411202MB0000021");
    let (s, v) = app
        .call(
            Method::POST,
            "/api/v1/employers",
            Some(&admin),
            Some(
                json!({"uscc": agency, "name": "湖滨区示例服务中心", "kind": "government_agency",
                        "region": "411202"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    // Its declaration lists one disabled employee: the one who will take the job.
    let emp = app.employer(&agency).await;
    let (s, v) = app
        .call(
            Method::PUT,
            &format!("/api/v1/employers/{agency}/declarations/2025"),
            Some(&emp),
            Some(declaration_body()),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    person(&app, "emp-browser-pos", Role::Employer, Some(&agency), None).await;
    person(
        &app,
        "fed-browser-pos",
        Role::Federation,
        None,
        Some("411200"),
    )
    .await;

    // The employer registers the position; a mobile number is refused beside its field.
    sign_in_as(&b, &app, "emp-browser-pos").await;
    b.c().goto(&app.url("/my/positions")).await.unwrap();
    b.check("my-positions").await;
    let today = app.clock.today();
    let (from, to) = (
        today.to_string(),
        (today + chrono::Days::new(60)).to_string(),
    );
    for (k, v) in [
        ("title", "档案数字化专员"),
        ("openings", "1"),
        ("county", "411202"),
        ("address", "湖滨区崤山路 3 号"),
        ("requirements", "能熟练使用电脑，每周工作 5 天"),
        ("accessibility", "一楼办公，有无障碍卫生间"),
        ("wage_min", "2800"),
        ("wage_max", "3600"),
        ("open_from", from.as_str()),
        ("open_to", to.as_str()),
        ("contact_phone", "13800138000"),
    ] {
        b.fill(k, v).await;
    }
    b.click_through("form.register button[type=submit]").await;
    assert!(b
        .text_of("#contact_phone-err")
        .await
        .contains("手机号码属于个人信息"));
    b.check("my-positions-fault").await;
    b.fill("contact_phone", "0398-2912345").await;
    b.click_through("form.register button[type=submit]").await;
    assert_eq!(b.text_of("article.position .status").await, "待残联审核");
    let (_, list) = app
        .call(
            Method::GET,
            &format!("/api/v1/employers/{agency}/positions"),
            Some(&emp),
            None,
        )
        .await;
    let id = list["items"][0]["id"].as_i64().unwrap();

    // The federation reviews it: a rejection needs a reason; published.
    sign_in_as(&b, &app, "fed-browser-pos").await;
    b.c().goto(&app.url("/federation/positions")).await.unwrap();
    heading(&b, "预留岗位审核").await;
    b.check("federation-positions").await;
    b.click_through("form.reject button[type=submit]").await;
    assert!(b
        .text_of(&format!("#note-{id}-err"))
        .await
        .contains("退回须填写理由"));
    b.check("federation-positions-fault").await;
    b.c()
        .goto(&app.url("/federation/positions?lang=en"))
        .await
        .unwrap();
    heading(&b, "Reserved positions: review").await;
    b.check("federation-positions-en").await;
    b.click_through("form.publish button[type=submit]").await;
    assert!(b
        .text_of("p[role=status]")
        .await
        .contains("The position is published"));
    b.c().goto(&app.url("/federation/positions")).await.unwrap();
    assert!(b
        .text_of("p[role=status]")
        .await
        .contains("没有待审核的岗位"));

    // On the public page, with the office's contact and nothing of any person.
    b.c().delete_all_cookies().await.unwrap();
    b.c()
        .goto(&app.url("/positions?county=411202"))
        .await
        .unwrap();
    let t = article_with(&b, "档案数字化专员").await;
    assert!(t.contains("湖滨区示例服务中心") && t.contains("0398-2912345"));
    assert!(!page_text(&b).await.contains(&CERT_A[..18]));
    b.check("positions-public").await;

    // The employer closes it as filled by line 1 of its 2025 roster (a line that does
    // not exist is refused beside its field first).
    sign_in_as(&b, &app, "emp-browser-pos").await;
    b.c().goto(&app.url("/my/positions")).await.unwrap();
    assert_eq!(b.text_of("article.position .status").await, "已发布");
    click(&b, "article.position details summary").await;
    click(&b, &format!("#filled-{id}")).await;
    b.fill("levy_year", "2025").await;
    b.fill("line_no", "9").await;
    b.click_through("form.close button[type=submit]").await;
    assert!(b
        .text_of(&format!("#line-{id}-err"))
        .await
        .contains("没有这一行"));
    b.check("my-positions-close-fault").await;
    b.fill("line_no", "1").await;
    b.click_through("form.close button[type=submit]").await;
    assert!(b.text_of("p[role=status]").await.contains("岗位已关闭"));
    assert_eq!(b.text_of("article.position .status").await, "已招用残疾人");
    b.check("my-positions-closed").await;
    b.c().goto(&app.url("/my/positions?lang=en")).await.unwrap();
    assert_eq!(
        b.text_of("article.position .status").await,
        "filled by a disabled person"
    );
    b.check("my-positions-en").await;

    // Gone from the public page.
    b.c().delete_all_cookies().await.unwrap();
    b.c().goto(&app.url("/positions")).await.unwrap();
    let public = page_text(&b).await;
    assert!(!public.contains("档案数字化专员"));
    assert!(!public.contains(CERT_A) && !public.contains(&CERT_A[..18]));
    let (_, feed) = app.call(Method::GET, "/api/v1/positions", None, None).await;
    assert_eq!(feed["items"], Value::Array(Vec::new()));
    b.c().clone().close().await.unwrap();
}
