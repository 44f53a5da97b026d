//! The steps of the money: the average wage and its cap, the fee due, and the
//! exemption, reduction and payable amount that follow from it.

use super::*;

impl Explainer {
    pub(crate) fn fee_no_staff(&mut self) {
        let text = self.lang.pick(
            "在职职工人数为 0：无应安排人数，无需缴纳保障金，也无从计算年平均工资。",
            "No in-service staff: nothing is required or payable, and there is no average wage.",
        );
        begin(&mut self.expl, "fee_due", "fee_due = 0 (N = 0)")
            .input("N", "0")
            .result("0.00")
            .citation(CITE_LEVY)
            .text()
            .s(text);
    }

    pub(crate) fn average_wage(&mut self, wages: Option<Wages>, n: Twelfths, w: Decimal) {
        let nn = tw(&mut self.n, n);
        let shown = Num::money(w);
        let zh = self.lang == Language::Zh;
        match wages {
            Some(Wages::Total(total)) => {
                let total_s = Num::money(total);
                let mut t = begin(
                    &mut self.expl,
                    "average_wage",
                    "W = round2(total_wages / N)",
                );
                t.input("total_wages", total_s.as_str())
                    .input("N", nn.exact.as_str())
                    .result(shown.as_str())
                    .citation(CITE_LEVY)
                    .text();
                let (total, avg) = (Yuan::of(total, zh), Yuan::of(w, zh));
                if zh {
                    cat!(t; "在职职工年平均工资：工资总额 ", total, "，除以年平均人数 ", Cnt(nn, zh), "，得 ", avg, "（四舍五入到分）。");
                } else {
                    cat!(t; "Average annual wage: total wages of ", total, " divided by the average staff of ", Cnt(nn, zh), ", that is ", avg, " (rounded to the fen).");
                }
            }
            _ => {
                let mut t = begin(&mut self.expl, "average_wage", "W = average_wage");
                t.input("average_wage", shown.as_str())
                    .result(shown.as_str())
                    .citation(CITE_LEVY)
                    .text();
                if zh {
                    cat!(t; "在职职工年平均工资按申报值计：", Yuan::of(w, zh), "。");
                } else {
                    cat!(t; "Average annual wage, as declared: ", Yuan::of(w, zh), ".");
                }
            }
        }
    }

    pub(crate) fn wage_cap(
        &mut self,
        w: Decimal,
        k: &Cited<Decimal>,
        s: Decimal,
        s_cited: Option<&Cited<Decimal>>,
        cap: Decimal,
        used: Decimal,
    ) {
        let (w_s, s_s, used_s, k_s) = (
            Num::money(w),
            Num::money(s),
            money(&mut self.money, used),
            Num::dec(k.value),
        );
        let zh = self.lang == Language::Zh;
        let s_cite = s_cited.map_or("overrides.social_average_wage (what-if)", |c| {
            c.citation.as_str()
        });
        let mut t = begin(&mut self.expl, "wage_cap", "W_used = min(W, k × S)");
        t.input("W", w_s.as_str())
            .input("k", k_s.as_str())
            .input("S", s_s.as_str())
            .result(used_s.as_str())
            .citation_parts(&[&k.citation, "; S: ", s_cite])
            .text();
        // A what-if value is not the region's figure: the sentence says so.
        let s_note = match (s_cited.is_none(), zh) {
            (false, _) => "",
            (true, true) => "（本次试算给定的假设值）",
            (true, false) => " (the what-if value given)",
        };
        let (w_y, s_y, cap_y) = (
            Yuan(w_s.grouped(), zh),
            Yuan(s_s.grouped(), zh),
            Yuan::of(cap, zh),
        );
        match (zh, w > cap) {
            (true, true) => {
                cat!(t; "计征工资：封顶为当地社会平均工资 ", s_y, s_note, "的 ", k_s, " 倍，即 ", cap_y, "；年平均工资 ", w_y, "高于封顶，按封顶计征。")
            }
            (true, false) => {
                cat!(t; "计征工资：封顶为当地社会平均工资 ", s_y, s_note, "的 ", k_s, " 倍，即 ", cap_y, "；年平均工资 ", w_y, "未超过封顶，按年平均工资计征。")
            }
            (false, true) => {
                cat!(t; "Wage used for the levy: the cap is ", k_s, " times the local social average wage of ", s_y, s_note, ", that is ", cap_y, "; the average wage of ", w_y, " is above it, so the cap is used.")
            }
            (false, false) => {
                cat!(t; "Wage used for the levy: the cap is ", k_s, " times the local social average wage of ", s_y, s_note, ", that is ", cap_y, "; the average wage of ", w_y, " is not above it, so the average wage is used.")
            }
        };
    }

    pub(crate) fn no_wage_cap(&mut self, w: Decimal) {
        let w_s = Num::money(w);
        let zh = self.lang == Language::Zh;
        let mut t = begin(&mut self.expl, "wage_cap", "W_used = W");
        t.input("W", w_s.as_str())
            .result(w_s.as_str())
            .citation(CITE_LEVY)
            .text();
        let w_y = Yuan(w_s.grouped(), zh);
        if zh {
            cat!(t; "计征工资：此时无工资封顶规定，按年平均工资 ", w_y, "计征。");
        } else {
            cat!(t; "Wage used for the levy: no wage cap is in force, so the average wage, ", w_y, ", is used.");
        }
    }

    pub(crate) fn fee_due(&mut self, shortfall: Twelfths, used: Decimal, fee: Decimal) {
        let ss = Tw::of(shortfall);
        let (used_s, fee_s) = (money(&mut self.money, used), money(&mut self.money, fee));
        let zh = self.lang == Language::Zh;
        let mut t = begin(
            &mut self.expl,
            "fee_due",
            "fee_due = round2(shortfall × W_used)",
        );
        t.input("shortfall", ss.exact.as_str())
            .input("W_used", used_s.as_str())
            .result(fee_s.as_str())
            .citation(CITE_LEVY)
            .text();
        let (used_y, fee_y) = (Yuan(used_s.grouped(), zh), Yuan(fee_s.grouped(), zh));
        match (zh, shortfall.is_zero()) {
            (true, false) => {
                cat!(t; "应缴保障金：差额人数 ", Cnt(ss, zh), "乘以计征工资 ", used_y, "，得 ", fee_y, "（四舍五入到分）。")
            }
            (true, true) => cat!(t; "应缴保障金：无差额人数，应缴 ", fee_y, "。"),
            (false, false) => {
                cat!(t; "Fee due: the shortfall of ", Cnt(ss, zh), " times the wage used, ", used_y, ", is ", fee_y, " (rounded to the fen).")
            }
            (false, true) => cat!(t; "Fee due: no shortfall, so ", fee_y, "."),
        };
    }

    pub(crate) fn employment_ratio(&mut self, d: Twelfths, n: Twelfths) {
        let dd = tw(&mut self.d, d);
        let nn = tw(&mut self.n, n);
        let r = exact::mul_div_round(&[d.twelfths()], n.twelfths(), 6).unwrap_or_default();
        let r_s = Num::fixed(r, 6);
        // The percentage is the same 6-decimal quotient, shifted: no second rounding.
        let p_s = Num::dec(r * Decimal::ONE_HUNDRED);
        let rounded = r.checked_mul(n.twelfths()) != Some(d.twelfths());
        let zh = self.lang == Language::Zh;
        let mut t = begin(&mut self.expl, "employment_ratio", "r = D / N");
        t.input("D", dd.exact.as_str())
            .input("N", nn.exact.as_str())
            .result(r_s.as_str())
            .citation(CITE_LEVY)
            .text();
        let a = match (rounded, zh) {
            (false, _) => "",
            (true, true) => "约",
            (true, false) => "about ",
        };
        if zh {
            cat!(t; "残疾人就业比例：安排残疾人 ", Cnt(dd, zh), "，占在职职工 ", Cnt(nn, zh), "的", a, " ", p_s, "%。");
        } else {
            cat!(t; "Employment ratio: ", Cnt(dd, zh), " counted as disabled out of ", Cnt(nn, zh), " on the staff, that is ", a, p_s, "%.");
        }
    }

    pub(crate) fn exemption(
        &mut self,
        policy: &ResolvedPolicy,
        input: &LevyInput,
        n: Twelfths,
        exempt: bool,
    ) {
        let nn = tw(&mut self.n, n);
        let rule = &policy.exemption;
        let lang = self.lang;
        let zh = lang == Language::Zh;
        let kind = input.employer_kind;
        let result = if exempt { "true" } else { "false" };
        match rule.value {
            ExemptionRule::None => {
                begin(
                    &mut self.expl,
                    "exemption",
                    "exempt = false (no exemption in force)",
                )
                .input("employer_kind", kind.as_str())
                .result(result)
                .citation(&rule.citation)
                .text()
                .s(lang.pick(
                    "小微企业免征：此时无小微企业免征规定。",
                    "Small-enterprise exemption: none is in force.",
                ));
            }
            ExemptionRule::SmallEnterprise {
                max_staff,
                max_years_since_registration,
            } => {
                let formula = if max_years_since_registration.is_some() {
                    "exempt = enterprise ∧ N ≤ max_staff ∧ as_of ≤ registered_on + max_years"
                } else {
                    "exempt = enterprise ∧ N ≤ max_staff"
                };
                let max_s = Num::uint(u64::from(max_staff));
                let mut t = begin(&mut self.expl, "exemption", formula);
                t.input("employer_kind", kind.as_str())
                    .input("N", nn.exact.as_str())
                    .input("max_staff", max_s.as_str());
                let window = match max_years_since_registration {
                    Some(years) => {
                        t.input(
                            "max_years_since_registration",
                            Num::uint(u64::from(years)).as_str(),
                        )
                        .input("as_of", Num::date(policy.as_of).as_str());
                        if let Some(r) = input.registered_on {
                            t.input("registered_on", Num::date(r).as_str());
                        }
                        input.registered_on.map(|r| (years, r))
                    }
                    None => None,
                };
                t.result(result).citation(&rule.citation).text();
                if kind != EmployerKind::Enterprise {
                    if zh {
                        cat!(t; "小微企业免征：仅适用于企业；", kind.name_zh(), "不适用，不论人数多少。");
                    } else {
                        cat!(t; "Small-enterprise exemption: enterprises only; ", kind_en(kind), " is never exempt, whatever its size.");
                    }
                    return;
                }
                let max_p = Ppl(max_s.grouped(), zh);
                if zh {
                    cat!(t; "小微企业免征：在职职工总数 ", max_p, "（含）以下的企业");
                } else {
                    cat!(t; "Small-enterprise exemption: enterprises with at most ", max_p, " on the staff (inclusive)");
                }
                if let Some((y, r)) = window {
                    let end = crate::domain::levy::add_years(r, y);
                    let (reg, asof) = (Day(r, zh), Day(policy.as_of, zh));
                    if zh {
                        cat!(t; "，自工商登记注册之日（", reg, "）起 ", y, " 年内");
                        if let Some(end) = end {
                            cat!(t; "（至 ", Day(end, zh), "）");
                        }
                        cat!(t; "，免征保障金（按申报日 ", asof, "判断）");
                    } else {
                        cat!(t; " are exempt within ", y, " years of business registration (", reg);
                        if let Some(end) = end {
                            cat!(t; ", so until ", Day(end, zh));
                        }
                        cat!(t; ", tested on the filing date ", asof, ")");
                    }
                } else {
                    t.s(lang.pick("免征保障金", " are exempt"));
                }
                let n_p = Cnt(nn, zh);
                match (exempt, zh) {
                    (true, true) => cat!(t; "。本单位在职职工 ", n_p, "，免征。"),
                    (false, true) => cat!(t; "。本单位在职职工 ", n_p, "，不符合免征条件。"),
                    (true, false) => cat!(t; ". This employer has ", n_p, " on the staff: exempt."),
                    (false, false) => {
                        cat!(t; ". This employer has ", n_p, " on the staff: not exempt.")
                    }
                };
            }
        }
    }

    pub(crate) fn reduction(
        &mut self,
        tiers: &Cited<ReductionTiers>,
        fee: Decimal,
        d: Twelfths,
        n: Twelfths,
        share: Decimal,
        reduction: Decimal,
    ) {
        let dd = tw(&mut self.d, d);
        let nn = tw(&mut self.n, n);
        let zh = self.lang == Language::Zh;
        let tv = &tiers.value;
        let (fee_s, red_s, share_s) = (
            money(&mut self.money, fee),
            Num::money(reduction),
            Num::dec(share),
        );
        let (th, sh) = (Num::pct(tv.threshold), Num::pct(share));
        let mut t = begin(
            &mut self.expl,
            "reduction",
            "reduction = round2(fee_due × (1 − share)); share = share_at_or_above if D ≥ threshold × N, else share_below",
        );
        t.input("fee_due", fee_s.as_str())
            .input("D", dd.exact.as_str())
            .input("N", nn.exact.as_str())
            .input("threshold", Num::dec(tv.threshold).as_str())
            .input("share_at_or_above", Num::dec(tv.share_at_or_above).as_str())
            .input("share_below", Num::dec(tv.share_below).as_str())
            .input("share", share_s.as_str())
            .result(red_s.as_str())
            .citation(&tiers.citation)
            .text();
        let (fee_y, red_y) = (Yuan(fee_s.grouped(), zh), Yuan(red_s.grouped(), zh));
        let above = share == tv.share_at_or_above;
        match (zh, above) {
            (true, true) => {
                cat!(t; "分档减缴：残疾人就业比例达到 ", th, "（含）以上，按应缴保障金 ", fee_y, "的 ", sh, " 缴纳，减免 ", red_y, "。")
            }
            (true, false) => {
                cat!(t; "分档减缴：残疾人就业比例低于 ", th, "，按应缴保障金 ", fee_y, "的 ", sh, " 缴纳，减免 ", red_y, "。")
            }
            (false, true) => {
                cat!(t; "Tiered reduction: the employment ratio is ", th, " or more, so ", sh, " of the fee of ", fee_y, " is payable; reduction ", red_y, ".")
            }
            (false, false) => {
                cat!(t; "Tiered reduction: the employment ratio is below ", th, ", so ", sh, " of the fee of ", fee_y, " is payable; reduction ", red_y, ".")
            }
        };
    }

    pub(crate) fn no_reduction(&mut self, tiers_in_force: bool, exempt: bool, no_shortfall: bool) {
        let text = if !tiers_in_force {
            self.lang.pick(
                "分档减缴：此时无分档减缴规定，减免 0.00 元。",
                "Tiered reduction: no reduction tiers are in force; reduction 0.00 yuan.",
            )
        } else if exempt {
            self.lang.pick(
                "分档减缴：已免征，不再分档减缴，减免 0.00 元。",
                "Tiered reduction: exempt, so no tier applies; reduction 0.00 yuan.",
            )
        } else if no_shortfall {
            self.lang.pick(
                "分档减缴：已达到规定比例，无应缴保障金可减，减免 0.00 元。",
                "Tiered reduction: the quota is met and nothing is due; reduction 0.00 yuan.",
            )
        } else {
            self.lang
                .pick("分档减缴：减免 0.00 元。", "Tiered reduction: 0.00 yuan.")
        };
        begin(&mut self.expl, "reduction", "reduction = 0")
            .result("0.00")
            .citation(CITE_LEVY)
            .text()
            .s(text);
    }

    pub(crate) fn payable(
        &mut self,
        policy: &ResolvedPolicy,
        fee: Decimal,
        red: Decimal,
        exempt: bool,
        pay: Decimal,
    ) {
        let (fee_s, red_s, pay_s) = (
            money(&mut self.money, fee),
            Num::money(red),
            Num::money(pay),
        );
        let zh = self.lang == Language::Zh;
        let (fee_y, red_y, pay_y) = (
            Yuan(fee_s.grouped(), zh),
            Yuan(red_s.grouped(), zh),
            Yuan(pay_s.grouped(), zh),
        );
        if exempt {
            let mut t = begin(&mut self.expl, "payable", "payable = 0 (exempt)");
            t.input("fee_due", fee_s.as_str())
                .input("exempt", "true")
                .result(pay_s.as_str())
                .citation(&policy.exemption.citation)
                .text();
            if zh {
                cat!(t; "实际应缴：符合免征条件，应缴保障金 ", fee_y, "予以免征，实际应缴 ", pay_y, "。");
            } else {
                cat!(t; "Levy payable: exempt, so the fee of ", fee_y, " is waived; payable ", pay_y, ".");
            }
        } else {
            let mut t = begin(&mut self.expl, "payable", "payable = fee_due − reduction");
            t.input("fee_due", fee_s.as_str())
                .input("reduction", red_s.as_str())
                .result(pay_s.as_str())
                .citation(CITE_LEVY)
                .text();
            if fee.is_zero() {
                t.s(self.lang.pick(
                    "实际应缴：无应缴保障金，实际应缴 0.00 元。",
                    "Levy payable: nothing is due; payable 0.00 yuan.",
                ));
            } else if red.is_zero() {
                if zh {
                    cat!(t; "实际应缴：无减免，实际应缴 ", pay_y, "。");
                } else {
                    cat!(t; "Levy payable: no reduction, so ", pay_y, ".");
                }
            } else if zh {
                cat!(t; "实际应缴：应缴保障金 ", fee_y, "减去减免 ", red_y, "，实际应缴 ", pay_y, "。");
            } else {
                cat!(t; "Levy payable: the fee of ", fee_y, " less the reduction of ", red_y, ", that is ", pay_y, ".");
            }
        }
    }
}
