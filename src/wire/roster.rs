//! Validation of the roster of disabled employees of a calculation request: each line,
//! and a certificate (holder) listed twice.

use serde_json::Value;

use super::faults::Fault;
use super::fields::{FieldError, Walker};
use super::request::{duplicate_message, MAX_ROSTER};
use super::validate::MONEY_RULE;
use crate::domain::ids::{DisabilityCertificate, UnifiedSocialCreditCode, VeteranCertificate};
use crate::domain::levy::{
    duplicate_certificates, Certificate, DisabledEmployee, Dispatch, DispatchRole, Employment,
    MonthSet, VeteranGrade,
};
use crate::domain::policy::RetirementTrack;

impl Walker {
    /// Walks `/disabled_employees`.
    pub(super) fn roster(&mut self, v: &Value) -> Option<Vec<DisabledEmployee>> {
        let Value::Array(a) = v else {
            self.fault("/disabled_employees", Fault::NotArray);
            return None;
        };
        if a.len() > MAX_ROSTER {
            self.err(
                "/disabled_employees",
                "too_many",
                format!("最多 {MAX_ROSTER} 人"),
                format!("at most {MAX_ROSTER} employees"),
            );
            return None;
        }
        let mut out = Vec::with_capacity(a.len());
        let mut ok = true;
        for (i, e) in a.iter().enumerate() {
            match self.employee(e, i) {
                Some(e) => out.push(e),
                None => ok = false,
            }
        }
        // Duplicates among the employees that parsed (indices are only right when all did;
        // otherwise they are checked on the parsed ones by original position below).
        if ok {
            for (index, first) in duplicate_certificates(&out) {
                self.errors.push(FieldError {
                    pointer: format!("/disabled_employees/{index}/certificate_no"),
                    code: "duplicate_certificate",
                    message: duplicate_message(first, self.lang),
                });
            }
        } else {
            self.duplicates_by_text(a);
        }
        ok.then_some(out)
    }

    /// Duplicate check when some employees failed to parse: on the certificates that did.
    fn duplicates_by_text(&mut self, a: &[Value]) {
        let mut seen: Vec<(usize, String)> = Vec::new();
        for (i, e) in a.iter().enumerate() {
            let Some(no) = e.get("certificate_no").and_then(Value::as_str) else {
                continue;
            };
            let kind = e
                .get("certificate_kind")
                .and_then(Value::as_str)
                .unwrap_or("disability");
            let key = if kind == "veteran" {
                VeteranCertificate::parse(no)
                    .ok()
                    .map(|v| format!("v{}", v.expose()))
            } else {
                DisabilityCertificate::parse(no)
                    .ok()
                    .map(|c| format!("d{}", c.holder().expose()))
            };
            let Some(key) = key else { continue };
            if let Some((first, _)) = seen.iter().find(|(_, k)| *k == key) {
                let first = *first;
                self.errors.push(FieldError {
                    pointer: format!("/disabled_employees/{i}/certificate_no"),
                    code: "duplicate_certificate",
                    message: duplicate_message(first, self.lang),
                });
            } else {
                seen.push((i, key));
            }
        }
    }

    fn employee(&mut self, v: &Value, i: usize) -> Option<DisabledEmployee> {
        const FIELDS: &[&str] = &[
            "certificate_no",
            "certificate_kind",
            "grade",
            "months",
            "employed_from",
            "employed_to",
            "on_establishment",
            "contract_months",
            "social_insurance_paid",
            "monthly_wage",
            "fresh_graduate",
            "disputed_months",
            "counted_elsewhere_months",
            "retirement_track",
            "dispatch",
        ];
        let base = format!("/disabled_employees/{i}");
        let before = self.errors.len();
        let m = self.object(v, &base, FIELDS)?;
        let get = |k: &str| m.get(k).filter(|v| !v.is_null());
        let p = |k: &str| format!("{base}/{k}");

        let kind = match get("certificate_kind") {
            None => Some("disability"),
            Some(k) => match self.string(k, &p("certificate_kind")) {
                Some(s @ ("disability" | "veteran")) => Some(s),
                Some(_) => {
                    self.err(
                        &p("certificate_kind"),
                        "invalid",
                        "应为 \"disability\"（残疾人证）或 \"veteran\"（残疾军人证）",
                        "must be \"disability\" or \"veteran\"",
                    );
                    None
                }
                None => None,
            },
        };
        let grade = get("grade").and_then(|g| self.integer(g, &p("grade"), 1, 8));
        let number = match get("certificate_no") {
            None => {
                self.required(&p("certificate_no"));
                None
            }
            Some(c) => self.string(c, &p("certificate_no")),
        };
        let certificate = match (kind, number) {
            (Some("veteran"), Some(no)) => {
                let number = VeteranCertificate::parse(no)
                    .map_err(|e| self.id_err(&p("certificate_no"), e))
                    .ok();
                let grade = match get("grade") {
                    None => {
                        self.err(
                            &p("grade"),
                            "required",
                            "残疾军人证须提供等级 1–8",
                            "a disabled veteran's certificate needs its grade, 1 to 8",
                        );
                        None
                    }
                    Some(_) => grade
                        .and_then(|g| u8::try_from(g).ok())
                        .and_then(VeteranGrade::new),
                };
                match (number, grade) {
                    (Some(number), Some(grade)) => Some(Certificate::Veteran { number, grade }),
                    _ => None,
                }
            }
            (Some(_), Some(no)) => match DisabilityCertificate::parse(no) {
                Ok(c) => {
                    // Levy-rules §9: the grade in the number is the grade that counts.
                    // Choice: a declared grade that differs is an error, not silently ignored.
                    if let Some(g) = grade {
                        if g != i64::from(c.grade()) {
                            self.err(
                                &p("grade"),
                                "grade_mismatch",
                                "与残疾人证号第 20 位的等级不符，以证号为准；请删除 grade 或改为一致",
                                "differs from the grade in the certificate number (character 20), which is the grade that counts; remove grade or make it match",
                            );
                        }
                    }
                    Some(Certificate::Disability(c))
                }
                Err(e) => {
                    self.id_err(&p("certificate_no"), e);
                    None
                }
            },
            _ => None,
        };

        // Months employed: a month list or a period, exactly one. Choice: neither is an
        // error rather than "all year"; a month listed twice is an error too.
        let employment = match (get("months"), get("employed_from")) {
            (Some(_), Some(_)) => {
                self.err(
                    &base,
                    "conflict",
                    "months 与 employed_from 只能提供一个",
                    "give months or employed_from, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    &p("months"),
                    "required",
                    "须提供 months（1–12 月份列表）或 employed_from",
                    "give months (a list of months 1-12) or employed_from",
                );
                None
            }
            (Some(Value::Array(a)), None) => {
                let mut set = MonthSet::EMPTY;
                let mut ok = true;
                for (j, x) in a.iter().enumerate() {
                    let ptr = format!("{base}/months/{j}");
                    match self.integer(x, &ptr, 1, 12) {
                        Some(mo) => {
                            let mo = mo as u8;
                            if set.contains(mo) {
                                self.err(
                                    &ptr,
                                    "duplicate_month",
                                    "月份重复",
                                    "this month is already listed",
                                );
                                ok = false;
                            }
                            set.insert(mo);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Employment::Months(set))
            }
            (Some(_), None) => {
                self.err(
                    &p("months"),
                    "type",
                    "应为 1–12 的整数数组",
                    "must be an array of months 1-12",
                );
                None
            }
            (None, Some(f)) => {
                let from = self.date(f, &p("employed_from"));
                let to = get("employed_to").and_then(|t| self.date(t, &p("employed_to")));
                if let (Some(f), Some(t)) = (from, to) {
                    if t < f {
                        self.err(
                            &p("employed_to"),
                            "before_start",
                            "employed_to 不得早于 employed_from",
                            "employed_to may not be before employed_from",
                        );
                    }
                }
                from.map(|from| Employment::Period { from, to })
            }
        };
        if get("employed_to").is_some() && get("employed_from").is_none() {
            self.err(
                &p("employed_to"),
                "conflict",
                "employed_to 须与 employed_from 一起提供",
                "employed_to needs employed_from",
            );
        }

        let on_establishment =
            get("on_establishment").and_then(|b| self.boolean(b, &p("on_establishment")));
        let contract_months =
            get("contract_months").and_then(|c| self.integer(c, &p("contract_months"), 0, 1200));
        let social_insurance_paid =
            get("social_insurance_paid").and_then(|b| self.boolean(b, &p("social_insurance_paid")));
        let monthly_wage =
            get("monthly_wage").and_then(|w| self.decimal(w, &p("monthly_wage"), &MONEY_RULE));
        let fresh_graduate =
            get("fresh_graduate").and_then(|b| self.boolean(b, &p("fresh_graduate")));
        // Set by the registry when another employer declares the same certificate:
        // pending (counted by neither) or decided for the other employer.
        let mut months = |key: &str| {
            let mut set = MonthSet::EMPTY;
            match get(key) {
                None => {}
                Some(Value::Array(a)) => {
                    for (j, x) in a.iter().enumerate() {
                        if let Some(mo) = self.integer(x, &format!("{base}/{key}/{j}"), 1, 12) {
                            set.insert(mo as u8);
                        }
                    }
                }
                Some(_) => self.err(
                    &p(key),
                    "type",
                    "应为 1–12 的整数数组",
                    "must be an array of months 1-12",
                ),
            }
            set
        };
        let disputed = months("disputed_months");
        let counted_elsewhere = months("counted_elsewhere_months");
        let retirement_track = get("retirement_track").and_then(|t| {
            match self.string(t, &p("retirement_track"))? {
                "worker" => Some(RetirementTrack::Worker),
                "cadre" => Some(RetirementTrack::Cadre),
                _ => {
                    self.err(
                        &p("retirement_track"),
                        "invalid",
                        "应为 \"worker\"（女职工，原法定退休年龄 50 周岁）或 \"cadre\"（管理或专业技术岗位，原 55 周岁）",
                        "must be \"worker\" (a woman worker, originally 50) or \"cadre\" (a management or professional post, originally 55)",
                    );
                    None
                }
            }
        });
        let dispatch = get("dispatch").and_then(|d| self.dispatch(d, &p("dispatch")));

        if self.errors.len() != before {
            return None;
        }
        Some(DisabledEmployee {
            certificate: certificate?,
            employment: employment?,
            on_establishment: on_establishment.unwrap_or(false),
            contract_months: contract_months.and_then(|c| u32::try_from(c).ok()),
            // Contract: social insurance paid defaults to true.
            social_insurance_paid: social_insurance_paid.unwrap_or(true),
            monthly_wage,
            fresh_graduate: fresh_graduate.unwrap_or(false),
            disputed,
            counted_elsewhere,
            retirement_track,
            dispatch,
        })
    }

    /// Walks a line's `dispatch` (docs/rules.md §4.4): `{ role, counted_by, partner_uscc }`.
    fn dispatch(&mut self, v: &Value, base: &str) -> Option<Dispatch> {
        let m = self.object(v, base, &["role", "counted_by", "partner_uscc"])?;
        let get = |k: &str| m.get(k).filter(|v| !v.is_null());
        let side = |w: &mut Self, k: &str| -> Option<DispatchRole> {
            let ptr = format!("{base}/{k}");
            match get(k) {
                None => {
                    w.required(&ptr);
                    None
                }
                Some(x) => match w.string(x, &ptr)? {
                    "host" => Some(DispatchRole::Host),
                    "agency" => Some(DispatchRole::Agency),
                    _ => {
                        w.err(
                            &ptr,
                            "invalid",
                            "应为 \"host\"（用工单位）或 \"agency\"（劳务派遣单位）",
                            "must be \"host\" or \"agency\"",
                        );
                        None
                    }
                },
            }
        };
        let role = side(self, "role");
        let counted_by = side(self, "counted_by");
        let ptr = format!("{base}/partner_uscc");
        let partner = match get("partner_uscc") {
            None => {
                self.required(&ptr);
                None
            }
            Some(x) => self.string(x, &ptr).and_then(|s| {
                UnifiedSocialCreditCode::parse(s)
                    .map_err(|e| self.id_err(&ptr, e))
                    .ok()
            }),
        };
        Some(Dispatch {
            role: role?,
            counted_by: counted_by?,
            partner: partner?,
        })
    }
}
