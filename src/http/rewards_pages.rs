//! `/federation/rewards`: the federation's page of the rewards roll, approving or
//! refusing each reward (a reason to refuse), or approving the ticked ones with one
//! button (`POST /federation/rewards/bulk`, all or none), with the same rules as the
//! API (`registry::rewards::decide_each`): the figure approved is the one shown, a
//! changed one is refused and shown again.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::context::{query_levy_year, scoped_prefix, visible_employer};
use super::federation::{FormData, Nav};
use super::page_kit::{forged, page, see_other, PageRefusal, SignedIn};
use super::pages::{render, Layout};
use super::AppState;
use crate::auth::Role;
use crate::domain::money::to_fen;
use crate::domain::Language;
use crate::registry::rewards::{
    decide, decide_each, for_each, rule_of_region, DecisionRequest, RewardError, RewardStatus,
    RewardTotals,
};

/// Most rewards one bulk approval decides (the page lists at most 500).
const MAX_PICKS: usize = 500;

struct Words {
    title: &'static str,
    filter: &'static str,
    region: &'static str,
    year: &'static str,
    show: &'static str,
    no_rule: &'static str,
    totals: &'static str,
    reward: &'static str,
    approved: &'static str,
    paid: &'static str,
    over_quota: &'static str,
    status: &'static str,
    provisional: &'static str,
    approve: &'static str,
    reason: &'static str,
    refuse: &'static str,
    pick: &'static str,
    bulk: &'static str,
    bulk_hint: &'static str,
}

impl Words {
    fn of(l: Language) -> Words {
        Words {
            title: l.pick(
                "超比例安排残疾人就业奖励审核",
                "Over-quota rewards: decisions",
            ),
            filter: l.pick("选择地区和年度", "Choose region and year"),
            region: l.pick("行政区划代码", "Region code"),
            year: l.pick("征收年度", "Levy year"),
            show: l.pick("查看", "Show"),
            no_rule: l.pick("本地区未设奖励规则：", "No reward rule here:"),
            totals: l.pick("单位数", "Employers"),
            reward: l.pick("奖励", "Reward"),
            approved: l.pick("已批准", "approved"),
            paid: l.pick("已发放", "paid"),
            over_quota: l.pick("超比例人数", "over quota"),
            status: l.pick("状态", "status"),
            provisional: l.pick("暂定", "provisional"),
            approve: l.pick("批准", "Approve"),
            reason: l.pick("不予奖励的理由", "Reason to refuse"),
            refuse: l.pick("不予奖励", "Refuse"),
            pick: l.pick("选择", "Pick"),
            bulk: l.pick("批准所选奖励", "Approve the ticked rewards"),
            bulk_hint: l.pick(
                "勾选待审核的奖励，再按此按钮一并批准（按页面显示的金额；任何一项不能批准时，全部不作决定）。",
                "Tick rewards awaiting a decision, then approve them with this button (at the amounts shown; if any one cannot be approved, none is decided).",
            ),
        }
    }
}

struct Row {
    uscc: String,
    name: String,
    region: String,
    over_quota: String,
    reward: String,
    status_label: String,
    provisional: bool,
    citation: String,
    reason: Option<String>,
    decidable: bool,
    /// Awaiting a (new) decision: may be ticked for a bulk approval.
    pickable: bool,
}

#[derive(Template)]
#[template(path = "pages/rewards/federation.html")]
struct RewardsPage {
    layout: Layout,
    nav: Nav,
    t: Words,
    csrf: String,
    region: String,
    levy_year: String,
    message: Option<String>,
    error: Option<String>,
    rule_note: Option<String>,
    totals: RewardTotals,
    items: Vec<Row>,
    /// Some row may be ticked: the bulk form is shown.
    any_pickable: bool,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    region: Option<String>,
    levy_year: Option<String>,
    done: Option<String>,
    approved: Option<usize>,
}

async fn render_page(
    state: &web::Data<AppState>,
    who: &SignedIn,
    region: String,
    levy_year: String,
    message: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageRefusal> {
    let lang = who.lang;
    let principal = who.who().clone();
    let checked = query_levy_year(&levy_year).and_then(|y| {
        let r = (!region.is_empty()).then_some(region.as_str());
        Ok((y.get(), scoped_prefix(&principal, r)?))
    });
    let (year, prefix) = match checked {
        Ok(v) => v,
        Err(super::problem::AppError::Forbidden(_)) => return Err(PageRefusal::Forbidden(lang)),
        Err(_) => {
            let error = Some(
                lang.pick(
                    "请填写六位行政区划代码（可留空）和有效的征收年度。",
                    "Give a six-digit region code (or none) and a valid levy year.",
                )
                .to_owned(),
            );
            let view = RewardsPage {
                layout: Layout::new(lang),
                nav: Nav::new(who, "rewards"),
                t: Words::of(lang),
                csrf: who.csrf().to_owned(),
                region,
                levy_year,
                message: None,
                error,
                rule_note: None,
                totals: RewardTotals::default(),
                items: Vec::new(),
                any_pickable: false,
            };
            return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, render(&view)?, &[]));
        }
    };
    let rule_note = region
        .parse()
        .ok()
        .and_then(|r| rule_of_region(state.policy.as_ref(), r, year).ok())
        .and_then(|r| r.note);
    let (rows, sums) = state
        .call(move |c, _| {
            let mut rows = Vec::new();
            let sums = for_each(c, year, &prefix, 0, Some(500), &mut |r| {
                rows.push(r);
                Ok(())
            })?;
            Ok::<_, crate::db::DbError>((rows, sums))
        })
        .await?;
    let items: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            decidable: matches!(
                r.status,
                RewardStatus::Pending | RewardStatus::Review | RewardStatus::Refused
            ),
            // A refused reward is approved only by its own button, not ticked among
            // others unnoticed.
            pickable: matches!(r.status, RewardStatus::Pending | RewardStatus::Review),
            status_label: lang.pick(r.status.name_zh(), r.status.as_str()).to_owned(),
            uscc: r.uscc,
            name: r.name,
            region: r.region,
            over_quota: r.over_quota,
            reward: r.reward,
            provisional: r.provisional,
            citation: r.rule.citation,
            reason: r.reason,
        })
        .collect();
    let view = RewardsPage {
        layout: Layout::new(lang),
        nav: Nav::new(who, "rewards"),
        t: Words::of(lang),
        csrf: who.csrf().to_owned(),
        region,
        levy_year,
        message,
        error,
        rule_note,
        totals: sums.totals(),
        any_pickable: items.iter().any(|r| r.pickable),
        items,
    };
    let status = if view.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(status, render(&view)?, &[]))
}

#[get("/federation/rewards")]
async fn rewards_page(
    state: web::Data<AppState>,
    who: SignedIn,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Federation])?;
    let q = q.into_inner();
    let year = q
        .levy_year
        .unwrap_or_else(|| chrono::Datelike::year(&state.clock.today()).to_string());
    let message = match (q.done, q.approved) {
        (Some(u), _) => Some(format!(
            "{} {u}",
            who.lang
                .pick("已记录对以下单位的决定：", "Decision recorded for")
        )),
        (None, Some(n)) => Some(format!(
            "{} {n}",
            who.lang.pick("已批准奖励的单位数：", "Rewards approved:")
        )),
        (None, None) => None,
    };
    render_page(
        &state,
        &who,
        q.region.unwrap_or_default(),
        year,
        message,
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    csrf_token: Option<String>,
    uscc: String,
    levy_year: String,
    region: Option<String>,
    reward: Option<String>,
    decision: String,
    reason: Option<String>,
}

#[post("/federation/rewards")]
async fn decide_form(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Federation])?;
    let f = form.into_inner();
    let region = f.region.clone().unwrap_or_default();
    let back = who.link(&format!(
        "/federation/rewards?region={region}&levy_year={}",
        f.levy_year
    ));
    if !who.form_ok(f.csrf_token.as_deref()) {
        return Ok(forged(who.lang, back)?);
    }
    let lang = who.lang;
    let refuse_without_reason =
        f.decision == "refuse" && f.reason.as_deref().is_none_or(|r| r.trim().is_empty());
    let year = query_levy_year(&f.levy_year).ok();
    let (Some(year), false, true) = (
        year,
        refuse_without_reason,
        matches!(f.decision.as_str(), "approve" | "refuse"),
    ) else {
        let e = lang.pick("不予奖励须填写理由。", "A refusal needs a reason.");
        return render_page(&state, &who, region, f.levy_year, None, Some(e.to_owned())).await;
    };
    let employer = visible_employer(&state, who.who(), &f.uscc)
        .await
        .map_err(|_| who.not_found())?;
    let req = DecisionRequest {
        approve: f.decision == "approve",
        reason: f
            .reason
            .map(|r| r.trim().chars().take(500).collect::<String>())
            .filter(|r| !r.is_empty()),
        expected_reward_fen: f
            .reward
            .and_then(|r| r.parse::<rust_decimal::Decimal>().ok())
            .and_then(to_fen),
    };
    let templates = crate::mail::template::Templates::from_settings(&state.settings.mail)
        .map_err(|e| super::problem::AppError::Internal(format!("mail templates: {e}")))?;
    let audit = who.audit();
    let uscc = f.uscc.clone();
    let done = state
        .db
        .run(move |c| {
            Ok(decide(
                c,
                std::slice::from_ref(&employer),
                year.get(),
                &req,
                Some(&templates),
                &audit.actor,
                audit.rid(),
            ))
        })
        .await?;
    match done {
        Ok(_) => Ok(see_other(&format!("{back}&done={uscc}"), &[])),
        Err(RewardError::At(_, e)) => match *e {
            RewardError::Conflict(s) | RewardError::NotFound(s) => {
                render_page(
                    &state,
                    &who,
                    region,
                    f.levy_year,
                    None,
                    Some(s.get(lang).to_owned()),
                )
                .await
            }
            RewardError::Db(d) => Err(d.into()),
            other => Err(super::problem::AppError::Internal(other.to_string()).into()),
        },
        Err(RewardError::Db(d)) => Err(d.into()),
        Err(other) => Err(super::problem::AppError::Internal(other.to_string()).into()),
    }
}

/// Approves the ticked rewards, each at the figure the page showed (`{uscc}@{reward}`),
/// all or none.
#[post("/federation/rewards/bulk")]
async fn bulk_form(
    state: web::Data<AppState>,
    who: SignedIn,
    body: web::Bytes,
) -> Result<HttpResponse, PageRefusal> {
    who.require(&[Role::Federation])?;
    let form = FormData::parse(&body);
    let region = form.get("region").unwrap_or_default().to_owned();
    let levy_year = form.get("levy_year").unwrap_or_default().to_owned();
    let back = who.link(&format!(
        "/federation/rewards?region={region}&levy_year={levy_year}"
    ));
    if !who.form_ok(form.csrf()) {
        return Ok(forged(who.lang, back)?);
    }
    let lang = who.lang;
    let again = |error: &str| {
        render_page(
            &state,
            &who,
            region.clone(),
            levy_year.clone(),
            None,
            Some(error.to_owned()),
        )
    };
    let Ok(year) = query_levy_year(&levy_year) else {
        return again(lang.pick("征收年度无效。", "The levy year is not valid.")).await;
    };
    let picks = form.all("pick");
    if picks.is_empty() || picks.len() > MAX_PICKS {
        return again(lang.pick(
            "请先勾选要批准的奖励（每次至多 500 项）。",
            "Tick the rewards to approve first (at most 500 at once).",
        ))
        .await;
    }
    let mut employers = Vec::with_capacity(picks.len());
    for pick in picks {
        let (uscc, shown) = pick.split_once('@').unwrap_or((pick, ""));
        // The figure shown travels with the tick; one that does not read is no figure,
        // and the registry then refuses a reward that changed under the officer.
        let seen = shown.parse::<rust_decimal::Decimal>().ok().and_then(to_fen);
        let e = visible_employer(&state, who.who(), uscc)
            .await
            .map_err(|_| who.not_found())?;
        employers.push((
            e,
            DecisionRequest {
                approve: true,
                reason: None,
                expected_reward_fen: seen,
            },
        ));
    }
    let templates = crate::mail::template::Templates::from_settings(&state.settings.mail)
        .map_err(|e| super::problem::AppError::Internal(format!("mail templates: {e}")))?;
    let audit = who.audit();
    let names: Vec<String> = employers.iter().map(|(e, _)| e.name.clone()).collect();
    let done = state
        .db
        .run(move |c| {
            let items: Vec<_> = employers.iter().map(|(e, r)| (e, r)).collect();
            Ok(decide_each(
                c,
                &items,
                year.get(),
                Some(&templates),
                &audit.actor,
                audit.rid(),
            ))
        })
        .await?;
    match done {
        Ok(decided) => Ok(see_other(
            &format!("{back}&approved={}", decided.len()),
            &[],
        )),
        Err(RewardError::At(i, e)) => match *e {
            RewardError::Conflict(s) | RewardError::NotFound(s) => {
                let name = names.get(i).cloned().unwrap_or_default();
                let text = format!(
                    "{name}：{}{}",
                    s.get(lang),
                    lang.pick(
                        "。所选奖励均未作决定。",
                        ". None of the ticked rewards was decided."
                    )
                );
                again(&text).await
            }
            RewardError::Db(d) => Err(d.into()),
            other => Err(super::problem::AppError::Internal(other.to_string()).into()),
        },
        Err(RewardError::Db(d)) => Err(d.into()),
        Err(other) => Err(super::problem::AppError::Internal(other.to_string()).into()),
    }
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(rewards_page)
        .service(bulk_form)
        .service(decide_form);
}
