//! Tests of the notice content: status words in mails, canonical JSON for the digest, Chinese dates, and older content still reading.

use super::*;

#[test]
fn mails_name_a_status_in_the_notice_words() {
    for st in [
        NoticeStatus::Compliant,
        NoticeStatus::BelowQuota,
        NoticeStatus::Exempt,
        NoticeStatus::NotDeclared,
    ] {
        let (zh, _) = crate::mail::plan::status_text(st.as_str());
        assert_eq!(zh, st.name_zh(), "{}", st.as_str());
    }
}

#[test]
fn canonical_json_sorts_keys_at_every_level_and_has_no_spaces() {
    let v = json!({"b": 1, "a": {"z": [1, {"y": "三", "x": null}], "c": true}});
    assert_eq!(
        canonical_json(&v),
        r#"{"a":{"c":true,"z":[1,{"x":null,"y":"三"}]},"b":1}"#
    );
}

#[test]
fn serialised_content_is_already_canonical() {
    let entry = NoticeEntry {
        uscc: "91350100M000100Y43".into(),
        name: "示例\"公司\"".into(),
        kind: "enterprise".into(),
        kind_zh: "企业".into(),
        region: "411202".into(),
        region_name: "湖滨区".into(),
        status: NoticeStatus::NotDeclared,
        status_zh: NoticeStatus::NotDeclared.name_zh().into(),
        staff: None,
        required: Some("1.6000".into()),
        counted: Some("2.0000".into()),
    };
    let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let content = NoticeContent {
        title: "t".into(),
        title_en: "t".into(),
        publisher: "p".into(),
        region: "411200".into(),
        region_name: "三门峡市".into(),
        region_name_en: "Sanmenxia".into(),
        levy_year: 2025,
        published_on: d,
        objection_until: d,
        objection_note: "n".into(),
        objection_contact: Some(ObjectionContact {
            address: Some("某路".into()),
            email: None,
            phone: Some("0000-0000000".into()),
        }),
        replaces: Some(Replaced {
            id: 1,
            sha256: "ab".into(),
        }),
        correction_reason: None,
        summary: NoticeSummary::default(),
        entries: vec![entry],
    };
    let direct = serde_json::to_string(&content).unwrap();
    let sorted = canonical_json(&serde_json::to_value(&content).unwrap());
    assert_eq!(direct, sorted);
}

#[test]
fn dates_are_written_the_chinese_way() {
    let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    assert_eq!(date_zh(d), "2026年12月1日");
}

#[test]
fn content_published_before_the_objection_contact_still_reads() {
    let old = r#"{"correction_reason":null,"entries":[],"levy_year":2025,"objection_note":"n","objection_until":"2026-03-09","published_on":"2026-03-02","publisher":"p","region":"411200","region_name":"三门峡市","region_name_en":"Sanmenxia","replaces":null,"summary":{"below_quota":0,"compliant":0,"employers":0,"exempt":0,"not_declared":0},"title":"t","title_en":"t"}"#;
    let c: NoticeContent = serde_json::from_str(old).unwrap();
    assert_eq!(c.objection_contact, None);
}

#[test]
fn digest_is_sha256_hex_of_the_canonical_text() {
    // Known vector: SHA-256 of "{}".
    assert_eq!(
        digest("{}"),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}
