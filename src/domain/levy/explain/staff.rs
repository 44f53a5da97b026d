//! The steps of the counts: average staff, each disabled employee and how they count,
//! the required number and the shortfall.

use super::*;

impl Explainer {
    pub(crate) fn new(lang: Language) -> Self {
        Explainer {
            lang,
            expl: Explanation::with_capacity(),
            n: None,
            d: None,
            req: None,
            money: [None, None],
        }
    }

    pub(crate) fn average_headcount(&mut self, staff: &Staff, n: Twelfths) {
        let nn = tw(&mut self.n, n);
        let zh = self.lang == Language::Zh;
        match staff {
            Staff::Monthly(h) => {
                let mut list = Num::EMPTY;
                for (i, x) in h.iter().enumerate() {
                    if i > 0 {
                        list.push(b',');
                    }
                    list.push_u128(u128::from(*x));
                }
                let sum = Num::dec(n.twelfths());
                let mut t = begin(
                    &mut self.expl,
                    "average_headcount",
                    "N = (h1 + h2 + … + h12) / 12",
                );
                t.input("monthly_headcount", list.as_str())
                    .input("sum", sum.as_str())
                    .result(nn.exact.as_str())
                    .citation(CITE_STAFF)
                    .text();
                let sum_g = sum.grouped();
                if zh {
                    cat!(t; "在职职工年平均人数：各月末在职职工人数相加为 ", sum_g, "，除以 12 个月，得 ", Cnt(nn, zh));
                    if nn.rounded {
                        t.s("（计算中使用未经四舍五入的精确值）");
                    }
                    t.s("。");
                } else {
                    cat!(t; "Average in-service staff: the month-end headcounts add up to ", sum_g, "; divided by 12 months, that is ", Cnt(nn, zh));
                    if nn.rounded {
                        t.s(" (the calculation uses the exact value, not the rounded one)");
                    }
                    t.s(".");
                }
            }
            Staff::Average(a) => {
                // A rounded twelfth taken as that twelfth (see `calculate`) names it.
                let snapped = Twelfths::from_value(*a) != Some(n);
                let mut t = begin(&mut self.expl, "average_headcount", "N = average_headcount");
                t.input("average_headcount", Num::dec(*a).as_str());
                if snapped {
                    t.input("taken_as", nn.exact.as_str());
                }
                t.result(nn.exact.as_str()).citation(CITE_STAFF).text();
                if snapped {
                    if zh {
                        cat!(t; "在职职工年平均人数申报为 ", Num::dec(*a), "，是 ", Cnt(nn, zh), " 四舍五入到 4 位小数的结果，按 ", Cnt(nn, zh), " 计算。");
                    } else {
                        cat!(t; "Average in-service staff declared as ", Num::dec(*a), ", which is ", Cnt(nn, zh), " rounded to 4 decimals; counted as ", Cnt(nn, zh), ".");
                    }
                } else if zh {
                    cat!(t; "在职职工年平均人数按申报值计：", Cnt(nn, zh), "。");
                } else {
                    cat!(t; "Average in-service staff, as declared: ", Cnt(nn, zh), ".");
                }
            }
        }
    }

    /// docs/rules.md §4.4: the staff count after dispatch agreements.
    pub(crate) fn dispatch_staff(&mut self, declared: Twelfths, staff: Twelfths) {
        let zh = self.lang == Language::Zh;
        // The cached N is the declared one; the adjusted one replaces it from here on.
        let before = Tw::of(declared);
        let after = Tw::of(staff);
        self.n = Some(after);
        let mut t = begin(
            &mut self.expl,
            "dispatch_staff",
            "N = N_declared + host_months / 12 − agency_months / 12",
        );
        t.input("declared", before.exact.as_str())
            .result(after.exact.as_str())
            .citation(CITE_DISPATCH)
            .text();
        if zh {
            cat!(t; "劳务派遣残疾人按派遣协议由用工单位计入（在职职工人数与安排残疾人人数同计一方，不得重复）：在职职工年平均人数由 ", Cnt(before, zh), " 调整为 ", Cnt(after, zh), "。");
        } else {
            cat!(t; "Dispatched disabled workers counted at the host under the dispatch agreement (in the staff count and the disabled count of one side, never both): average staff adjusted from ", Cnt(before, zh), " to ", Cnt(after, zh), ".");
        }
    }

    pub(crate) fn disabled_employee(
        &mut self,
        e: &DisabledEmployee,
        o: &EmployeeOutcome,
        policy: &ResolvedPolicy,
        mw: &MinimumWages<'_>,
    ) {
        let lang = self.lang;
        let zh = lang == Language::Zh;
        let (kind_zh, kind_en) = match e.certificate {
            Certificate::Disability(_) => ("残疾人证", "disability certificate"),
            Certificate::Veteran { .. } => ("残疾军人证", "disabled veteran's certificate"),
        };
        let employed = Num::months(o.employed);
        let weighted = Num::uint(u64::from(o.weighted_months()));
        let rule = &policy.fresh_graduate_full_year;
        let mut t = begin(
            &mut self.expl,
            "disabled_employee",
            "weighted_months = weight × counted_months",
        );
        t.input("index", Num::uint(o.index as u64).as_str());
        // The masked number goes straight into the buffer.
        let a = t.len();
        match &e.certificate {
            Certificate::Disability(c) => c.write_masked(t.buf()),
            Certificate::Veteran { number, .. } => number.write_masked(t.buf()),
        }
        t.input_from("certificate", a);
        t.input("certificate_kind", e.certificate.kind_str())
            .input("grade", Num::uint(u64::from(o.grade)).as_str())
            .input("weight", Num::uint(u64::from(o.weight)).as_str())
            .input("employed_months", employed.as_str())
            .input(
                "counted_months",
                Num::uint(u64::from(o.counted_months)).as_str(),
            );
        if !o.excluded.is_empty() {
            t.input("excluded_months", Num::months(o.excluded).as_str());
        }
        t.result(weighted.as_str());
        let age_cite = o
            .age_limit
            .and(policy.working_age.as_ref())
            .map(|w| w.required.citation.as_str());
        let dispatch_cite = e.dispatch.map(|_| CITE_DISPATCH);
        if o.fresh_graduate_applied {
            t.citation_parts(&[CITE_DISABLED, "; ", &rule.citation]);
        } else if let Some(c) = age_cite.or(dispatch_cite) {
            t.citation_parts(&[CITE_DISABLED, "; ", c]);
        } else {
            t.citation(CITE_DISABLED);
        }
        t.text();
        // The masked number and the month list are inputs; the sentence gives the counts.
        // People number a roster from 1; the `index` input keeps the API's 0-based index.
        let (i, employed_n) = (o.index + 1, o.employed.len());
        if zh {
            cat!(t; "第 ", i, " 名残疾职工：", kind_zh, " ", o.grade, " 级，每月按 ", o.weight, " 人计；月末在职 ", employed_n, " 个月");
        } else {
            let each = if o.weight == 1 { " person" } else { " people" };
            cat!(t; "Disabled employee no. ", i, ": ", kind_en, " grade ", o.grade, ", counts as ", o.weight, each, " a month; employed at month end in ", employed_n, " months");
        }
        if !o.exclusions.is_empty() {
            t.s(lang.pick("；", "; "));
            write_exclusion_detail(t.buf(), o, e, mw, lang);
            t.s("");
        }
        if e.monthly_wage.is_none() {
            t.s(lang.pick(
                "；未申报月工资，工资条件未核对",
                "; no monthly wage given, wage condition not checked",
            ));
        } else if !o.minimum_wage_unknown.is_empty() {
            t.s(lang.pick("；", "; no minimum wage known for "));
            write_month_runs(t.buf(), o.minimum_wage_unknown, lang);
            t.s(lang.pick(
                "最低工资标准未知，未核对工资条件",
                ", wage condition not checked",
            ));
        }
        if e.fresh_graduate {
            t.s(if o.fresh_graduate_applied {
                lang.pick(
                    "；应届高校毕业生，当年计入超过 6 个月，按 12 个月计",
                    "; fresh college graduate counted more than 6 months: counts 12 months",
                )
            } else if !rule.value {
                lang.pick(
                    "；标为应届毕业生，但本地区无按全年计算的规定",
                    "; marked as fresh graduate, but no full-year rule is in force here",
                )
            } else {
                lang.pick(
                    "；应届毕业生按全年计算的规定未适用（须当年入职且计入超过 6 个月）",
                    "; fresh-graduate full-year rule not applied (needs hiring in the data year and more than 6 months counted)",
                )
            });
        }
        if zh {
            cat!(t; "；计入 ", o.counted_months, " 个月，共 ", weighted, " 人月。");
        } else {
            cat!(t; "; counted for ", o.counted_months, " months, ", weighted, " person-months in all.");
        }
    }

    pub(crate) fn disabled_counted(&mut self, disabled: &Disabled, d: Twelfths) {
        let dd = tw(&mut self.d, d);
        let zh = self.lang == Language::Zh;
        match disabled {
            Disabled::Roster(roster) => {
                let sum = Num::dec(d.twelfths());
                let mut t = begin(
                    &mut self.expl,
                    "disabled_counted",
                    "D = Σ(weight × counted_months) / 12",
                );
                t.input("weighted_months", sum.as_str())
                    .result(dd.exact.as_str())
                    .citation(CITE_DISABLED)
                    .text();
                let sum_g = sum.grouped();
                if roster.is_empty() {
                    t.s(self.lang.pick(
                        "安排残疾人就业人数：未申报残疾职工，按 0 人计。",
                        "Disabled employees: none declared, so 0.",
                    ));
                } else if zh {
                    cat!(t; "安排残疾人就业人数（年平均，重度残疾人按 2 人计）：各残疾职工计入的人月相加为 ", sum_g, "，除以 12 个月，得 ", Cnt(dd, zh), "。");
                } else {
                    cat!(t; "Disabled employees (annual average, a severely disabled person counted as two): the person-months counted add up to ", sum_g, "; divided by 12 months, that is ", Cnt(dd, zh), ".");
                }
            }
            Disabled::Certified(c) => {
                let mut t = begin(&mut self.expl, "disabled_counted", "D = disabled_count");
                t.input("disabled_count", Num::dec(*c).as_str())
                    .result(dd.exact.as_str())
                    .citation(CITE_DISABLED)
                    .text();
                if zh {
                    cat!(t; "安排残疾人就业人数按残疾人就业服务机构认定的年平均人数（重度残疾人按 2 人计）计：", Cnt(dd, zh), "。");
                } else {
                    cat!(t; "Disabled employees as certified by the disabled persons' employment service agency (annual average, a severely disabled person counted as two): ", Cnt(dd, zh), ".");
                }
            }
        }
    }

    pub(crate) fn required(&mut self, n: Twelfths, q: Used<'_>, required: Twelfths) {
        let nn = tw(&mut self.n, n);
        let rr = tw(&mut self.req, required);
        let zh = self.lang == Language::Zh;
        let pct = Num::pct(q.value);
        let mut t = begin(&mut self.expl, "required", "required = N × q");
        t.input("N", nn.exact.as_str())
            .input("q", Num::dec(q.value).as_str())
            .result(rr.exact.as_str());
        match q.cited {
            Some(c) => t.citation(&c.citation),
            None => t.citation("overrides.quota_ratio (what-if)"),
        };
        t.text();
        let what_if = match (q.cited.is_none(), zh) {
            (false, _) => "",
            (true, true) => "（安排比例为本次试算给定的假设值）",
            (true, false) => " (a what-if quota ratio)",
        };
        if zh {
            cat!(t; "应安排残疾人就业人数：在职职工 ", Cnt(nn, zh), "的 ", pct, what_if, "，即 ", Cnt(rr, zh), "。");
        } else {
            cat!(t; "Required disabled employees: ", pct, what_if, " of ", Cnt(nn, zh), " on the staff, that is ", Cnt(rr, zh), ".");
        }
    }

    pub(crate) fn shortfall(&mut self, required: Twelfths, d: Twelfths, shortfall: Twelfths) {
        let rr = tw(&mut self.req, required);
        let dd = tw(&mut self.d, d);
        let ss = Tw::of(shortfall);
        let zh = self.lang == Language::Zh;
        let mut t = begin(
            &mut self.expl,
            "shortfall",
            "shortfall = max(0, required − D)",
        );
        t.input("required", rr.exact.as_str())
            .input("D", dd.exact.as_str())
            .result(ss.exact.as_str())
            .citation(CITE_LEVY)
            .text();
        let (r, d) = (Cnt(rr, zh), Cnt(dd, zh));
        match (zh, shortfall.is_zero()) {
            (true, false) => {
                cat!(t; "差额人数：应安排 ", r, "，实际安排 ", d, "，差 ", Cnt(ss, zh), "。")
            }
            (true, true) => {
                cat!(t; "差额人数：应安排 ", r, "，实际安排 ", d, "，已达到规定比例，差额为 0。")
            }
            (false, false) => {
                cat!(t; "Shortfall: ", r, " required, ", d, " counted; ", Cnt(ss, zh), " short.")
            }
            (false, true) => {
                cat!(t; "Shortfall: ", r, " required, ", d, " counted; the quota is met, shortfall 0.")
            }
        };
    }
}
