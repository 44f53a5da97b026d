//! The late-payment surcharge (滞纳金) of docs/rules.md §6: 5‰ of the outstanding principal per
//! calendar day, from the day after the due date up to and including the payment day
//! (残疾人就业条例; 财税〔2015〕72号), payments reducing principal first, `round2` on each
//! computed amount, capped at the amount in default — the principal that was still
//! unpaid when the surcharge began, which is what it accrues on (行政强制法 Art. 45: the
//! surcharge may not exceed the monetary obligation) — unless the rule says not.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::money::round2;
use crate::domain::policy::SurchargeRule;

/// A payment towards a levy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment {
    /// The day the payment was made.
    pub date: NaiveDate,
    /// Amount in yuan (positive).
    pub amount: Decimal,
}

/// A run of days on which the outstanding principal did not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurchargeSegment {
    /// First surcharged day.
    pub from: NaiveDate,
    /// Last surcharged day (inclusive).
    pub to: NaiveDate,
    /// Calendar days, `to − from + 1`.
    pub days: i64,
    /// Outstanding principal on those days.
    pub principal: Decimal,
    /// `round2(principal × daily_rate × days)`, cut to what the cap leaves.
    pub amount: Decimal,
}

/// The surcharge position on the as-of date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurchargeResult {
    /// The principal originally due.
    pub principal: Decimal,
    /// Surcharge accrued up to and including the as-of date (after the cap).
    pub accrued: Decimal,
    /// The cap: the amount in default, i.e. the principal still owed on the first day
    /// surcharged (payments made by the due date were never in default). `None` while
    /// nothing was surcharged, or when the rule has no cap.
    pub cap: Option<Decimal>,
    /// True when the cap cut the surcharge.
    pub capped: bool,
    /// Payments applied to the principal.
    pub principal_paid: Decimal,
    /// Payments applied to the surcharge.
    pub surcharge_paid: Decimal,
    /// Principal still owed.
    pub outstanding_principal: Decimal,
    /// Surcharge still owed.
    pub outstanding_surcharge: Decimal,
    /// Overpayment to refund (paid beyond principal and surcharge).
    pub refund_due: Decimal,
    /// The surcharged runs of days, in date order.
    pub segments: Vec<SurchargeSegment>,
}

/// Why a surcharge cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurchargeError {
    /// The principal is negative.
    #[error("the principal must not be negative")]
    NegativePrincipal,
    /// A payment amount is zero or negative.
    #[error("payment {index}: the amount must be positive")]
    NonPositivePayment {
        /// Index in the given list.
        index: usize,
    },
    /// A payment is dated after the as-of date (not yet known on that date).
    #[error("payment {index} is dated after the as-of date")]
    PaymentAfterAsOf {
        /// Index in the given list.
        index: usize,
    },
}

/// Computes the surcharge on `principal` due on `due`, given `payments` in any order, as
/// of `as_of`. Choice: while principal is outstanding, the surcharge runs up to and
/// including the as-of date, as if paid that day.
pub fn surcharge(
    rule: &SurchargeRule,
    principal: Decimal,
    due: NaiveDate,
    payments: &[Payment],
    as_of: NaiveDate,
) -> Result<SurchargeResult, SurchargeError> {
    if principal.is_sign_negative() && !principal.is_zero() {
        return Err(SurchargeError::NegativePrincipal);
    }
    for (index, p) in payments.iter().enumerate() {
        if p.amount <= Decimal::ZERO {
            return Err(SurchargeError::NonPositivePayment { index });
        }
        if p.date > as_of {
            return Err(SurchargeError::PaymentAfterAsOf { index });
        }
    }
    let mut order: Vec<&Payment> = payments.iter().collect();
    order.sort_by_key(|p| p.date); // stable: same-day payments keep their order

    let mut acc = Accrual {
        rate: rule.daily_rate,
        capped_rule: rule.capped_at_principal,
        cap: None,
        accrued: Decimal::ZERO,
        capped: false,
        segments: Vec::new(),
    };
    let mut outstanding = principal;
    // The last day already surcharged (or the due date itself, never surcharged).
    let mut cursor = due;
    let (mut principal_paid, mut surcharge_paid, mut refund_due) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for p in order {
        if p.date > cursor {
            // The payment day itself is surcharged on the principal before the payment.
            acc.run(cursor, p.date, outstanding);
            cursor = p.date;
        }
        // Payments reduce principal first, then the surcharge accrued so far; the rest is
        // an overpayment (nothing accrues once the principal is paid).
        let to_principal = p.amount.min(outstanding);
        outstanding -= to_principal;
        principal_paid += to_principal;
        let rest = p.amount - to_principal;
        let to_surcharge = rest.min(acc.accrued - surcharge_paid);
        surcharge_paid += to_surcharge;
        refund_due += rest - to_surcharge;
    }
    if as_of > cursor {
        acc.run(cursor, as_of, outstanding);
    }
    Ok(SurchargeResult {
        principal,
        accrued: acc.accrued,
        cap: acc.cap,
        capped: acc.capped,
        principal_paid,
        surcharge_paid,
        outstanding_principal: outstanding,
        outstanding_surcharge: acc.accrued - surcharge_paid,
        refund_due,
        segments: acc.segments,
    })
}

struct Accrual {
    rate: Decimal,
    /// Whether the rule caps the surcharge at all.
    capped_rule: bool,
    /// Set on the first surcharged day: the principal then in default. Principal only
    /// falls afterwards, so this is the most that was ever in default.
    cap: Option<Decimal>,
    accrued: Decimal,
    capped: bool,
    segments: Vec<SurchargeSegment>,
}

impl Accrual {
    /// Surcharges the days after `last_done` up to and including `to` on `principal`.
    fn run(&mut self, last_done: NaiveDate, to: NaiveDate, principal: Decimal) {
        if principal <= Decimal::ZERO || to <= last_done {
            return;
        }
        let Some(from) = last_done.succ_opt() else {
            return;
        };
        let days = (to - from).num_days() + 1;
        let mut amount = round2(principal * self.rate * Decimal::from(days));
        if self.capped_rule && self.cap.is_none() {
            self.cap = Some(principal);
        }
        if let Some(cap) = self.cap {
            let room = (cap - self.accrued).max(Decimal::ZERO);
            if amount > room {
                amount = room;
                self.capped = true;
            }
        }
        self.accrued += amount;
        self.segments.push(SurchargeSegment {
            from,
            to,
            days,
            principal,
            amount,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rule(capped: bool) -> SurchargeRule {
        SurchargeRule {
            daily_rate: dec!(0.005),
            capped_at_principal: capped,
        }
    }

    #[test]
    fn the_cap_is_the_amount_in_default_not_the_whole_levy() {
        // A levy of 25,920.00 due 2025-12-31: 10,000.00 paid on time, 15,920.00 never.
        // Only 15,920.00 was ever in default, so the surcharge stops at 15,920.00
        // (5‰ a day reaches it after 200 days), not at 25,920.00.
        let pay = [Payment {
            date: d("2025-12-20"),
            amount: dec!(10000.00),
        }];
        let r = surcharge(
            &rule(true),
            dec!(25920.00),
            d("2025-12-31"),
            &pay,
            d("2027-06-30"),
        )
        .unwrap();
        assert_eq!(r.cap, Some(dec!(15920.00)));
        assert!(r.capped);
        assert_eq!(r.accrued, dec!(15920.00));
        assert_eq!(r.outstanding_principal, dec!(15920.00));
        // Nothing surcharged yet: no cap to show.
        let r = surcharge(
            &rule(true),
            dec!(25920.00),
            d("2025-12-31"),
            &pay,
            d("2025-12-31"),
        )
        .unwrap();
        assert_eq!((r.cap, r.accrued), (None, dec!(0)));
        // A part paid late lowers what accrues afterwards, not the cap.
        let late = [
            pay[0],
            Payment {
                date: d("2026-01-30"),
                amount: dec!(5920.00),
            },
        ];
        let r = surcharge(
            &rule(true),
            dec!(25920.00),
            d("2025-12-31"),
            &late,
            d("2026-01-30"),
        )
        .unwrap();
        assert_eq!(r.cap, Some(dec!(15920.00)));
        assert_eq!(r.accrued, dec!(2388.00), "30 days × 5‰ × 15,920.00");
    }

    #[test]
    fn spec_example_thirty_days() {
        // docs/rules.md §10: 10,000.00 due 2025-10-31, paid 2025-11-30 → 30 days × 5‰ → 1,500.00
        let pay = [Payment {
            date: d("2025-11-30"),
            amount: dec!(10000.00),
        }];
        let r = surcharge(
            &rule(true),
            dec!(10000.00),
            d("2025-10-31"),
            &pay,
            d("2025-11-30"),
        )
        .unwrap();
        assert_eq!(r.accrued, dec!(1500.00));
        assert_eq!(r.segments.len(), 1);
        assert_eq!(r.segments[0].days, 30);
        assert_eq!(r.segments[0].from, d("2025-11-01"));
        assert_eq!(r.outstanding_principal, dec!(0));
        assert_eq!(r.outstanding_surcharge, dec!(1500.00));
        assert_eq!(r.refund_due, dec!(0));
    }

    #[test]
    fn partial_payments_in_any_order_reduce_principal_first() {
        let pays = [
            Payment {
                date: d("2025-11-20"),
                amount: dec!(6000),
            },
            Payment {
                date: d("2025-11-10"),
                amount: dec!(4000),
            },
        ];
        let r = surcharge(
            &rule(true),
            dec!(10000),
            d("2025-10-31"),
            &pays,
            d("2025-12-31"),
        )
        .unwrap();
        // 10 days on 10,000 = 500; 10 days on 6,000 = 300
        assert_eq!(r.segments.len(), 2);
        assert_eq!(r.segments[0].amount, dec!(500.00));
        assert_eq!(r.segments[1].amount, dec!(300.00));
        assert_eq!(r.accrued, dec!(800.00));
        assert_eq!(r.outstanding_principal, dec!(0));
    }

    #[test]
    fn payment_on_due_date_is_free_and_overpayment_is_refunded() {
        let pays = [Payment {
            date: d("2025-10-31"),
            amount: dec!(10000.10),
        }];
        let r = surcharge(
            &rule(true),
            dec!(10000),
            d("2025-10-31"),
            &pays,
            d("2026-01-31"),
        )
        .unwrap();
        assert_eq!(r.accrued, dec!(0));
        assert_eq!(r.refund_due, dec!(0.10));
        assert!(r.segments.is_empty());
    }

    #[test]
    fn later_payment_settles_surcharge_then_refund() {
        let pays = [
            Payment {
                date: d("2025-11-30"),
                amount: dec!(10000),
            },
            Payment {
                date: d("2025-12-15"),
                amount: dec!(1600),
            },
        ];
        let r = surcharge(
            &rule(true),
            dec!(10000),
            d("2025-10-31"),
            &pays,
            d("2025-12-31"),
        )
        .unwrap();
        assert_eq!(r.accrued, dec!(1500.00));
        assert_eq!(r.surcharge_paid, dec!(1500.00));
        assert_eq!(r.outstanding_surcharge, dec!(0));
        assert_eq!(r.refund_due, dec!(100));
    }

    #[test]
    fn unpaid_runs_to_as_of_and_is_capped_at_principal() {
        // 250 days × 5‰ = 125 % of the principal: capped at 100 %.
        let r = surcharge(
            &rule(true),
            dec!(1000),
            d("2025-01-01"),
            &[],
            d("2025-09-08"),
        )
        .unwrap();
        assert_eq!(r.accrued, dec!(1000));
        assert!(r.capped);
        let r = surcharge(
            &rule(false),
            dec!(1000),
            d("2025-01-01"),
            &[],
            d("2025-09-08"),
        )
        .unwrap();
        assert_eq!(r.accrued, dec!(1250.00));
        assert!(!r.capped);
        assert_eq!(r.outstanding_principal, dec!(1000));
    }

    #[test]
    fn rounding_per_segment_and_errors() {
        // 333.33 × 0.005 × 1 = 1.66665 → 1.67
        let r = surcharge(
            &rule(true),
            dec!(333.33),
            d("2025-01-01"),
            &[],
            d("2025-01-02"),
        )
        .unwrap();
        assert_eq!(r.accrued, dec!(1.67));
        let bad = [Payment {
            date: d("2025-02-01"),
            amount: dec!(1),
        }];
        assert_eq!(
            surcharge(&rule(true), dec!(1), d("2025-01-01"), &bad, d("2025-01-15")),
            Err(SurchargeError::PaymentAfterAsOf { index: 0 })
        );
        let zero = [Payment {
            date: d("2025-01-02"),
            amount: dec!(0),
        }];
        assert_eq!(
            surcharge(
                &rule(true),
                dec!(1),
                d("2025-01-01"),
                &zero,
                d("2025-01-15")
            ),
            Err(SurchargeError::NonPositivePayment { index: 0 })
        );
        assert_eq!(
            surcharge(&rule(true), dec!(-1), d("2025-01-01"), &[], d("2025-01-15")),
            Err(SurchargeError::NegativePrincipal)
        );
    }
}
