//! A tax officer previews a draft policy pack in a real browser: signs in, opens the
//! impact page, uploads a draft that lowers Henan's quota ratio and reads the report
//! (the totals the registry's preview gives, the largest changes explained step by
//! step). The page fits a 390 px phone, passes axe-core and is photographed into
//! target/screenshots/.

use super::browser;
use crate::helpers::web::{person, PASSWORD};
use crate::impact::{lowered_ratio_draft, with_register};
use fantoccini::Locator;
use quota_levy::auth::Role;

#[tokio::test]
async fn browser_tax_officer_uploads_a_draft_pack_and_reads_its_impact() {
    let Some(b) = browser("browser_tax_officer_uploads_a_draft_pack_and_reads_its_impact").await
    else {
        return;
    };
    let app = with_register(&[("QUOTA_LEVY__ACCOUNTS__INVITE_ON_REGISTRATION", "false")]).await;
    person(&app, "tax1", Role::Tax, None, Some("411200")).await;
    let c = b.c();
    c.goto(&app.url("/login?next=%2Ftax%2Fimpact%3Flevy_year%3D2025"))
        .await
        .unwrap();
    b.fill("username", "tax1").await;
    b.fill("password", PASSWORD).await;
    b.click_through("form.account button[type=submit]").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/tax/impact",
        "signing in returns to the page"
    );
    assert_eq!(
        c.find(Locator::Css("#f-region"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("411200"),
        "the officer's region is the default"
    );
    for w in [1280, 390] {
        b.width(w).await;
        b.fits(&format!("impact form at {w} px")).await;
    }
    b.axe("impact form").await;
    b.shoot("tax-impact-form", 390).await;
    b.width(1280).await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("410000-henan.toml");
    std::fs::write(&path, lowered_ratio_draft()).unwrap();
    c.find(Locator::Css("#f-file"))
        .await
        .unwrap()
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    b.click_through("#f-preview").await;
    let employers = b.text_of("#t-employers").await;
    assert_eq!(employers, crate::impact::EMPLOYERS_SHOWN);
    let change = b.text_of("#t-change").await;
    assert!(
        change.starts_with('-'),
        "a lower ratio lowers the levy: {change}"
    );
    assert!(b
        .text_of("#rep-heading")
        .await
        .contains("410000-henan.toml"));
    // The largest change opened: its steps, today and under the draft.
    c.find(Locator::Css("#largest details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let steps = b.text_of("#largest details").await;
    assert!(steps.contains("required"), "{steps}");
    for w in [1280, 390] {
        b.width(w).await;
        b.fits(&format!("impact report at {w} px")).await;
        b.axe(&format!("impact report at {w} px")).await;
        b.shoot("tax-impact-report", w).await;
    }
}
