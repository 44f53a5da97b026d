//! The check of a pack's `retirement_age` value (docs/rules.md §4.3).

use super::Ctx;

/// Checks a `retirement_age` value (docs/rules.md §4.3): ages in whole years from 14 to
/// 80, a raise given whole (first birth month `YYYY-MM`, every 1–12 months, at most 120).
pub(super) fn retirement_ages(
    cx: &mut Ctx<'_>,
    key: &str,
    at: usize,
    r: &crate::policy::format::RawRetirementAges,
) -> Option<crate::domain::RetirementAges> {
    use crate::domain::RetirementSchedule;
    let mut ok = (14..=20).contains(&r.minimum_age);
    if !ok {
        cx.err(at, key, "minimum_age must lie between 14 and 20");
    }
    let mut sched = |cx: &mut Ctx<'_>, name: &str, s: &crate::policy::format::RawSchedule| {
        let k = format!("{key}.{name}");
        if !(40..=80).contains(&s.years) {
            cx.err(at, &k, "years must lie between 40 and 80");
            ok = false;
        }
        let delay_from = match (
            &s.delay_from_birth,
            s.delay_every_months,
            s.max_delay_months,
        ) {
            (None, None, None) => None,
            (Some(ym), Some(every), Some(max)) if (1..=12).contains(&every) && max <= 120 => {
                let parsed = ym.split_once('-').and_then(|(y, m)| {
                    let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u32>().ok()?);
                    ((1900..=2100).contains(&y) && (1..=12).contains(&m) && ym.len() == 7)
                        .then_some((y, m))
                });
                if parsed.is_none() {
                    cx.err(at, &k, "delay_from_birth must be a month, \"YYYY-MM\"");
                    ok = false;
                }
                parsed
            }
            _ => {
                cx.err(
                    at,
                    &k,
                    "a raise needs delay_from_birth, delay_every_months (1-12) and max_delay_months (at most 120), all three",
                );
                ok = false;
                None
            }
        };
        RetirementSchedule {
            base_years: s.years,
            delay_from,
            delay_every_months: s.delay_every_months.unwrap_or(0),
            max_delay_months: s.max_delay_months.unwrap_or(0),
        }
    };
    let male = sched(cx, "male", &r.male);
    let female_worker = sched(cx, "female_worker", &r.female_worker);
    let female_cadre = sched(cx, "female_cadre", &r.female_cadre);
    ok.then_some(crate::domain::RetirementAges {
        minimum_age: r.minimum_age,
        male,
        female_worker,
        female_cadre,
    })
}
