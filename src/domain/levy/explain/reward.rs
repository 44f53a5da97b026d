//! The steps of employing over the quota: the persons above it and the reward.

use super::*;

impl Explainer {
    pub(crate) fn over_quota(&mut self, d: Twelfths, required: Twelfths, over: Twelfths) {
        let dd = tw(&mut self.d, d);
        let rr = tw(&mut self.req, required);
        let oo = Tw::of(over);
        let zh = self.lang == Language::Zh;
        let mut t = begin(
            &mut self.expl,
            "over_quota",
            "over_quota = max(0, D − required)",
        );
        t.input("D", dd.exact.as_str())
            .input("required", rr.exact.as_str())
            .result(oo.exact.as_str())
            .citation(CITE_OVER_QUOTA)
            .text();
        let (d, r) = (Cnt(dd, zh), Cnt(rr, zh));
        match (zh, over.is_zero()) {
            (true, false) => {
                cat!(t; "超比例安排人数：实际安排 ", d, "，应安排 ", r, "，超出 ", Cnt(oo, zh), "。")
            }
            (true, true) => {
                cat!(t; "超比例安排人数：实际安排 ", d, "，未超过应安排的 ", r, "，无超比例人数。")
            }
            (false, false) => {
                cat!(t; "Over quota: ", d, " counted, ", r, " required; ", Cnt(oo, zh), " over.")
            }
            (false, true) => {
                cat!(t; "Over quota: ", d, " counted, no more than the ", r, " required, so none.")
            }
        };
    }

    pub(crate) fn reward(
        &mut self,
        policy: &ResolvedPolicy,
        input: &LevyInput,
        over: Twelfths,
        r: &RewardFigures,
    ) {
        let lang = self.lang;
        let zh = lang == Language::Zh;
        let citation = policy.reward.citation.as_str();
        let amount = Num::money(r.amount);
        if over.is_zero() {
            begin(&mut self.expl, "reward", "reward = 0 (over_quota = 0)")
                .result(amount.as_str())
                .citation(citation)
                .text()
                .s(lang.pick(
                    "超比例奖励：未超比例安排残疾人就业，无超比例奖励。",
                    "Over-quota reward: not over quota, so no reward.",
                ));
            return;
        }
        if let Some(w) = r.none_because {
            let message = w.message(policy, lang);
            begin(&mut self.expl, "reward", "reward = 0")
                .result(amount.as_str())
                .citation(citation)
                .text()
                .s(lang.pick("超比例奖励：", "Over-quota reward: "))
                .s(&lower_first(&message));
            return;
        }
        let persons = r.persons.unwrap_or(Twelfths::ZERO);
        let (base, pp) = (Num::exact(r.base_over), Tw::of(persons));
        let whole = matches!(
            policy.reward.value,
            RewardRule::MinimumWageMultiple {
                persons: RewardPersons::Whole,
                ..
            } | RewardRule::FixedPerPerson {
                persons: RewardPersons::Whole,
                ..
            }
        );
        if persons.is_zero() {
            // Whole persons only, and less than one: nothing to reward (no wage needed).
            begin(
                &mut self.expl,
                "reward",
                "reward = 0 (floor(over_quota) = 0)",
            )
            .input("over_quota", base.as_str())
            .input("persons", pp.exact.as_str())
            .result(amount.as_str())
            .citation(citation)
            .text()
            .s(lang.pick(
                "超比例奖励：超比例人数不足 1 人（按整人数计），无超比例奖励。",
                "Over-quota reward: less than one whole person over quota, so no reward.",
            ));
            return;
        }
        let persons_note = match (zh, whole) {
            (true, true) => "（按整人数计）",
            (false, true) => " (whole persons)",
            _ => "",
        };
        let amount_y = Yuan(amount.grouped(), zh);
        let p = Ppl(pp.shown, zh);
        match &policy.reward.value {
            RewardRule::MinimumWageMultiple {
                multiple,
                max_years,
                severe_counted_once,
                ..
            } => {
                let mw = r.minimum_wage.map(Num::money).unwrap_or(Num::EMPTY);
                let mult = Num::dec(*multiple);
                let formula = if whole {
                    "reward = round2(floor(over_quota) × multiple × minimum_wage)"
                } else {
                    "reward = round2(over_quota × multiple × minimum_wage)"
                };
                let once = *severe_counted_once && matches!(input.disabled, Disabled::Roster(_));
                // How the persons were counted, in one bracket.
                let how = match (zh, whole, once) {
                    (true, true, true) => "（按整人数计，重度残疾人只计一人）",
                    (true, false, true) => "（重度残疾人只计一人）",
                    (false, true, true) => {
                        " (whole persons, a severely disabled person counted once)"
                    }
                    (false, false, true) => " (a severely disabled person counted once)",
                    (_, _, false) => persons_note,
                };
                let mut t = begin(&mut self.expl, "reward", formula);
                t.input("over_quota", base.as_str())
                    .input("persons", pp.exact.as_str())
                    .input("multiple", mult.as_str())
                    .input("minimum_wage", mw.as_str())
                    .result(amount.as_str())
                    .citation(citation)
                    .text();
                let mw_y = Yuan(mw.grouped(), zh);
                if zh {
                    cat!(t; "超比例奖励：超比例人数 ", p, how, "，每人奖励上年末当地月最低工资 ", mw_y, "的 ", mult, " 倍，共 ", amount_y);
                } else {
                    cat!(t; "Over-quota reward: ", p, " over quota", how, ", each rewarded ", mult, " times the local monthly minimum wage at the end of the data year (", mw_y, "): ", amount_y);
                }
                match (max_years, zh) {
                    (Some(y), true) => cat!(t; "；同一单位最多奖励 ", y, " 年。"),
                    (Some(y), false) => cat!(t; "; at most ", y, " years per employer."),
                    (None, _) => t.s(lang.pick("。", ".")),
                };
            }
            RewardRule::FixedPerPerson {
                amount: per, cap, ..
            } => {
                let per_s = Num::money(*per);
                let mut t = begin(
                    &mut self.expl,
                    "reward",
                    "reward = min(cap, persons × amount_per_person)",
                );
                t.input("over_quota", base.as_str())
                    .input("persons", pp.exact.as_str())
                    .input("amount_per_person", per_s.as_str());
                if let Some(c) = cap {
                    t.input("cap", Num::money(*c).as_str());
                }
                t.result(amount.as_str()).citation(citation).text();
                let per_y = Yuan(per_s.grouped(), zh);
                if zh {
                    cat!(t; "超比例奖励：超比例人数 ", p, persons_note, "，每人 ", per_y);
                    if let Some(c) = cap {
                        cat!(t; "，每单位最高 ", Yuan::of(*c, zh));
                    }
                    cat!(t; "，共 ", amount_y, "。");
                } else {
                    cat!(t; "Over-quota reward: ", p, " over quota", persons_note, ", ", per_y, " each");
                    if let Some(c) = cap {
                        cat!(t; " (at most ", Yuan::of(*c, zh), " per employer)");
                    }
                    cat!(t; ": ", amount_y, ".");
                }
            }
            RewardRule::None { .. } => {}
        }
    }
}
