//! Validation of the calculation request: the walker on the request's top level, its
//! staff and overrides, and the resolution of the policy in force. Roster lines are in
//! [`super::roster`].

use chrono::Datelike;
use rust_decimal::Decimal;
use serde_json::Value;

use super::faults::Fault;
use super::fields::{DecRule, FieldError, Walker};
use super::request::{
    earliest_as_of, levy_field_error, missing_parameter_message, wages_required_message,
    ParsedRequest, MAX_MONEY, MAX_STAFF,
};
use crate::domain::levy::{Disabled, LevyError, LevyInput, Overrides, Staff, Wages};
use crate::domain::{EmployerKind, ExemptionRule, PolicyLookupError, PolicyProvider, RegionCode};

pub(super) const COUNT_RULE: DecRule = DecRule {
    max_dp: 4,
    min: Decimal::ZERO,
    min_exclusive: false,
    max: Decimal::from_parts(10_000_000, 0, 0, false, 0),
};
pub(super) const MONEY_RULE: DecRule = DecRule {
    max_dp: 2,
    min: Decimal::ZERO,
    min_exclusive: false,
    max: MAX_MONEY,
};
pub(super) const POSITIVE_MONEY_RULE: DecRule = DecRule {
    max_dp: 2,
    min: Decimal::ZERO,
    min_exclusive: true,
    max: MAX_MONEY,
};
pub(super) const RATIO_RULE: DecRule = DecRule {
    max_dp: 6,
    min: Decimal::ZERO,
    min_exclusive: true,
    max: Decimal::ONE,
};

impl Walker {
    /// Walks a whole calculation request; `None` when any part failed.
    pub(super) fn request(
        &mut self,
        provider: &dyn PolicyProvider,
        body: &Value,
    ) -> Option<ParsedRequest> {
        const TOP: &[&str] = &[
            "region",
            "levy_year",
            "as_of",
            "employer",
            "staff",
            "total_wages",
            "average_wage",
            "disabled_employees",
            "disabled_count",
            "overrides",
            "language",
        ];
        let m = self.object(body, "", TOP)?;
        let get = |k: &str| m.get(k).filter(|v| !v.is_null());

        if let Some(l) = get("language") {
            if let Some(s) = self.string(l, "/language") {
                if s != "zh" && s != "en" {
                    self.err(
                        "/language",
                        "invalid",
                        "应为 \"zh\" 或 \"en\"",
                        "must be \"zh\" or \"en\"",
                    );
                }
            }
        }

        let region = match get("region") {
            None => {
                self.required("/region");
                None
            }
            Some(v) => self
                .string(v, "/region")
                .and_then(|s| match s.parse::<RegionCode>() {
                    Ok(r) if !r.is_national() => Some(r),
                    _ => {
                        self.fault("/region", Fault::Region);
                        None
                    }
                }),
        };
        let levy_year = match get("levy_year") {
            None => {
                self.required("/levy_year");
                None
            }
            Some(v) => self
                .integer(v, "/levy_year", 2015, 2100)
                .and_then(|y| i32::try_from(y).ok()),
        };
        let as_of = get("as_of").and_then(|v| self.date(v, "/as_of"));
        if let Some(d) = as_of {
            if d < earliest_as_of() {
                self.err(
                    "/as_of",
                    "as_of_too_early",
                    "申报日早于 2015-10-01：此前的各省规定未建模",
                    "as-of date before 2015-10-01: earlier provincial regimes are not modelled",
                );
            } else if let Some(y) = levy_year {
                // Choice: the data year must be over on the as-of date.
                if d.year() < y {
                    self.err(
                        "/as_of",
                        "as_of_before_levy_year",
                        "申报日不得早于征收年度的 1 月 1 日（数据年度尚未结束）",
                        "the as-of date may not be before 1 January of the levy year (the data year is not over)",
                    );
                }
            }
        }

        // employer
        let mut kind = None;
        let mut registered_on = None;
        match get("employer") {
            None => self.required("/employer"),
            Some(v) => {
                if let Some(e) = self.object(v, "/employer", &["kind", "registered_on"]) {
                    match e.get("kind").filter(|v| !v.is_null()) {
                        None => self.required("/employer/kind"),
                        Some(k) => {
                            if let Some(s) = self.string(k, "/employer/kind") {
                                match s.parse::<EmployerKind>() {
                                    Ok(k) => kind = Some(k),
                                    Err(_) => self.fault("/employer/kind", Fault::EmployerKind),
                                }
                            }
                        }
                    }
                    registered_on = e
                        .get("registered_on")
                        .filter(|v| !v.is_null())
                        .and_then(|v| self.date(v, "/employer/registered_on"));
                }
            }
        }

        // staff
        let staff = match get("staff") {
            None => {
                self.required("/staff");
                None
            }
            Some(v) => self.staff(v),
        };
        let staff_zero = staff.as_ref().map(|s| match s {
            Staff::Monthly(h) => h.iter().all(|&x| x == 0),
            Staff::Average(a) => a.is_zero(),
        });

        // wages
        let total = get("total_wages").and_then(|v| self.decimal(v, "/total_wages", &MONEY_RULE));
        let average =
            get("average_wage").and_then(|v| self.decimal(v, "/average_wage", &MONEY_RULE));
        let wages = match (get("total_wages"), get("average_wage")) {
            (Some(_), Some(_)) => {
                self.err(
                    "/average_wage",
                    "conflict",
                    "total_wages 与 average_wage 只能提供一个",
                    "give total_wages or average_wage, not both",
                );
                None
            }
            (None, None) => {
                if staff_zero == Some(false) {
                    self.errors.push(FieldError {
                        pointer: "/total_wages".into(),
                        code: "required",
                        message: wages_required_message(self.lang),
                    });
                }
                None
            }
            _ => total.map(Wages::Total).or(average.map(Wages::Average)),
        };

        // disabled employees
        let disabled = match (get("disabled_employees"), get("disabled_count")) {
            (Some(_), Some(_)) => {
                self.err(
                    "/disabled_count",
                    "conflict",
                    "disabled_employees 与 disabled_count 只能提供一个",
                    "give disabled_employees or disabled_count, not both",
                );
                None
            }
            (Some(v), None) => self.roster(v).map(Disabled::Roster),
            (None, Some(v)) => self
                .decimal(v, "/disabled_count", &COUNT_RULE)
                .map(Disabled::Certified),
            (None, None) => Some(Disabled::Roster(Vec::new())),
        };

        // overrides
        let overrides = match get("overrides") {
            None => Some(Overrides::default()),
            Some(v) => self.overrides(v),
        };

        // Resolve the policy (reports an unknown region or a gap even alongside other errors).
        let policy = match (region, levy_year) {
            (Some(region), Some(levy_year)) if as_of.is_none_or(|d| d >= earliest_as_of()) => {
                let as_of = match as_of {
                    Some(d) => Some(d),
                    None => match provider.default_as_of(region, levy_year) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            self.lookup_err(&e);
                            None
                        }
                    },
                };
                as_of.and_then(
                    |d| match provider.resolve_shared(region, d, levy_year - 1) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            self.lookup_err(&e);
                            None
                        }
                    },
                )
            }
            _ => None,
        };

        // Checks that need the policy, so that they are reported with the rest.
        if let (Some(p), Some(false)) = (&policy, staff_zero) {
            let over = overrides.as_ref().and_then(|o| o.social_average_wage);
            if p.wage_cap_multiple.is_some() && p.social_average_wage.is_none() && over.is_none() {
                self.errors.push(FieldError {
                    pointer: "/overrides/social_average_wage".into(),
                    code: "missing_parameter",
                    message: missing_parameter_message(
                        p.region,
                        p.data_year,
                        "social_average_wage",
                        self.lang,
                    ),
                });
            }
        }
        if let (Some(p), Some(EmployerKind::Enterprise), Some(s), None) =
            (&policy, kind, &staff, registered_on)
        {
            if let ExemptionRule::SmallEnterprise {
                max_staff,
                max_years_since_registration: Some(years),
            } = p.exemption.value
            {
                let n12 = match s {
                    Staff::Monthly(h) => {
                        Decimal::from(h.iter().map(|&x| u64::from(x)).sum::<u64>())
                    }
                    Staff::Average(a) => *a * Decimal::from(12),
                };
                // Only when absent: a malformed date has its own error already.
                let absent = get("employer")
                    .and_then(|e| e.get("registered_on"))
                    .is_none_or(Value::is_null);
                if n12 <= Decimal::from(max_staff) * Decimal::from(12) && absent {
                    self.errors.push(levy_field_error(
                        &LevyError::MissingRegistrationDate { years },
                        self.lang,
                    ));
                }
            }
        }

        Some(ParsedRequest {
            levy_year: levy_year?,
            lang: self.lang,
            policy: policy?,
            input: LevyInput {
                employer_kind: kind?,
                registered_on,
                staff: staff?,
                wages,
                disabled: disabled?,
                overrides: overrides?,
            },
        })
    }

    /// Records why the policy could not be resolved.
    pub(super) fn lookup_err(&mut self, e: &PolicyLookupError) {
        match e {
            PolicyLookupError::UnknownRegion(_) => self.fault("/region", Fault::UnknownRegion),
            PolicyLookupError::AsOfTooEarly(_) => self.err(
                "/as_of",
                "as_of_too_early",
                "申报日早于 2015-10-01：此前的各省规定未建模",
                "the as-of date is before 2015-10-01: earlier provincial regimes are not modelled",
            ),
            PolicyLookupError::Missing(msg) => self.err(
                "/as_of",
                "policy_gap",
                format!("政策包未规定该日期适用的规则：{msg}"),
                format!("the policy packs do not cover this date: {msg}"),
            ),
        }
    }

    fn staff(&mut self, v: &Value) -> Option<Staff> {
        let m = self.object(v, "/staff", &["monthly_headcount", "average_headcount"])?;
        let monthly = m.get("monthly_headcount").filter(|v| !v.is_null());
        let average = m.get("average_headcount").filter(|v| !v.is_null());
        match (monthly, average) {
            (Some(_), Some(_)) => {
                self.err(
                    "/staff",
                    "conflict",
                    "monthly_headcount 与 average_headcount 只能提供一个",
                    "give monthly_headcount or average_headcount, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    "/staff",
                    "required",
                    "须提供 monthly_headcount（12 个月末人数）或 average_headcount",
                    "give monthly_headcount (12 month-end headcounts) or average_headcount",
                );
                None
            }
            (Some(Value::Array(a)), None) => {
                if a.len() != 12 {
                    self.err(
                        "/staff/monthly_headcount",
                        "length",
                        format!("应有 12 个月末人数，实际 {} 个", a.len()),
                        format!("12 monthly headcounts are needed, got {}", a.len()),
                    );
                }
                let mut h = [0u32; 12];
                let mut ok = a.len() == 12;
                for (i, x) in a.iter().enumerate() {
                    match self.integer(x, &format!("/staff/monthly_headcount/{i}"), 0, MAX_STAFF) {
                        Some(n) if i < 12 => h[i] = u32::try_from(n).unwrap_or(0),
                        Some(_) => {}
                        None => ok = false,
                    }
                }
                ok.then_some(Staff::Monthly(h))
            }
            (Some(_), None) => {
                self.err(
                    "/staff/monthly_headcount",
                    "type",
                    "应为 12 个整数的数组",
                    "must be an array of 12 whole numbers",
                );
                None
            }
            (None, Some(a)) => self
                .decimal(a, "/staff/average_headcount", &COUNT_RULE)
                .map(Staff::Average),
        }
    }

    fn overrides(&mut self, v: &Value) -> Option<Overrides> {
        let m = self.object(
            v,
            "/overrides",
            &["quota_ratio", "social_average_wage", "minimum_wage_monthly"],
        )?;
        let mut ok = true;
        let mut field =
            |me: &mut Self, k: &str, rule: &DecRule| match m.get(k).filter(|v| !v.is_null()) {
                None => None,
                Some(x) => {
                    let d = me.decimal(x, &format!("/overrides/{k}"), rule);
                    ok &= d.is_some();
                    d
                }
            };
        let quota_ratio = field(self, "quota_ratio", &RATIO_RULE);
        let social_average_wage = field(self, "social_average_wage", &POSITIVE_MONEY_RULE);
        let minimum_wage_monthly = field(self, "minimum_wage_monthly", &POSITIVE_MONEY_RULE);
        ok.then_some(Overrides {
            quota_ratio,
            social_average_wage,
            minimum_wage_monthly,
        })
    }
}
