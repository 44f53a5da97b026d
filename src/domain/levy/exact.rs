//! Exact arithmetic for the levy (docs/rules.md §5: "Exact decimal arithmetic only … divide
//! last, or keep fractions, so that a result exactly on a half-fen rounds as the exact
//! value would").
//!
//! Counts are kept in twelfths (`N × 12` is the sum of the monthly headcounts, `D × 12`
//! the sum of weighted counted months), so they are finite decimals. The only divisions
//! are the final ones, done here on 128-bit integers with exact half-up rounding — never
//! through a 28-digit decimal quotient that could land on, or just off, a half fen.

use rust_decimal::Decimal;

/// `10^n` as `i128`, for `n ≤ 38`.
fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// `(Π factors) / den`, rounded half-up (away from zero) to `dp` decimals, exactly.
///
/// Returns `None` on division by zero or when the intermediate integers do not fit in
/// 128 bits (impossible within the input bounds the request layer enforces).
pub(crate) fn mul_div_round(factors: &[Decimal], den: Decimal, dp: u32) -> Option<Decimal> {
    let (p, q) = fraction(factors, den, dp)?;
    let (neg, p, q) = ((p < 0) != (q < 0), p.checked_abs()?, q.checked_abs()?);
    let (quot, rem) = (p / q, p % q);
    // Half-up: round away from zero when the remainder is at least half the divisor.
    let quot = if rem.checked_mul(2)? >= q {
        quot.checked_add(1)?
    } else {
        quot
    };
    Decimal::try_from_i128_with_scale(if neg { -quot } else { quot }, dp).ok()
}

/// `(Π factors) / den`, rounded down (towards negative infinity) to a whole number.
pub(crate) fn mul_div_floor(factors: &[Decimal], den: Decimal) -> Option<Decimal> {
    let (p, q) = fraction(factors, den, 0)?;
    let q_pos = q.checked_abs()?;
    let p = if q < 0 { p.checked_neg()? } else { p };
    Decimal::try_from_i128_with_scale(p.div_euclid(q_pos), 0).ok()
}

/// The integers `p / q` equal to `(Π factors) / den × 10^dp`, with common powers of ten
/// cancelled so that they stay small.
fn fraction(factors: &[Decimal], den: Decimal, dp: u32) -> Option<(i128, i128)> {
    if den.is_zero() {
        return None;
    }
    let mut num: i128 = 1;
    let mut num_scale: u32 = 0;
    for f in factors {
        num = num.checked_mul(f.mantissa())?;
        num_scale += f.scale();
    }
    // value × 10^dp = num × 10^(den_scale + dp) / (den_mantissa × 10^num_scale)
    let up = den.scale() + dp;
    let common = up.min(num_scale);
    let p = num.checked_mul(pow10(up - common)?)?;
    let q = den.mantissa().checked_mul(pow10(num_scale - common)?)?;
    Some((p, q))
}

/// A non-negative count kept as twelve times its value, so that averages over the twelve
/// months of the data year stay finite decimals (docs/rules.md §4: "kept exact").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Twelfths(Decimal);

/// Twelve, the months of the data year.
const TWELVE: Decimal = Decimal::from_parts(12, 0, 0, false, 0);

impl Twelfths {
    /// Zero.
    pub const ZERO: Twelfths = Twelfths(Decimal::ZERO);

    /// From the twelve-fold value (a sum over the twelve months).
    pub fn from_twelfths(x12: Decimal) -> Twelfths {
        Twelfths(x12)
    }

    /// From the value itself (× 12 exactly); `None` on overflow.
    pub fn from_value(v: Decimal) -> Option<Twelfths> {
        v.checked_mul(TWELVE).map(Twelfths)
    }

    /// Twelve times the value (exact).
    pub fn twelfths(self) -> Decimal {
        self.0
    }

    /// True when zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The value rounded half-up to `dp` decimals, computed from the exact fraction.
    pub fn round(self, dp: u32) -> Decimal {
        mul_div_round(&[self.0], TWELVE, dp).unwrap_or(Decimal::ZERO)
    }

    /// The value when it is a finite decimal (i.e. the twelve-fold value is a multiple of
    /// 3 in its last unit), `None` when it repeats forever (e.g. 388/12).
    pub fn exact_decimal(self) -> Option<Decimal> {
        self.exact_decimal_raw().map(|d| d.normalize())
    }

    /// [`exact_decimal`](Self::exact_decimal) with trailing zeros (for formatting that
    /// trims them anyway).
    pub(crate) fn exact_decimal_raw(self) -> Option<Decimal> {
        let m = self.0.mantissa();
        if m % 3 != 0 {
            return None;
        }
        // x/12 = (m/3) / (4 × 10^s) = (m/3 × 25) / 10^(s+2)
        let scaled = (m / 3).checked_mul(25)?;
        Decimal::try_from_i128_with_scale(scaled, self.0.scale() + 2).ok()
    }

    /// The exact value as text: a decimal when finite ("0.485"), else the fraction over
    /// twelve ("388/12"). Explanation inputs use this so that they can be recomputed.
    pub fn exact_string(self) -> String {
        match self.exact_decimal() {
            Some(d) => d.to_string(),
            None => format!("{}/12", self.0.normalize()),
        }
    }

    /// `max(0, self − other)`.
    pub fn saturating_sub(self, other: Twelfths) -> Twelfths {
        if self.0 > other.0 {
            Twelfths(self.0 - other.0)
        } else {
            Twelfths::ZERO
        }
    }
}

/// Parses the text form of [`Twelfths::exact_string`] back; for tests and for anyone
/// recomputing an explanation.
pub fn parse_exact(s: &str) -> Option<Twelfths> {
    match s.split_once('/') {
        Some((num, "12")) => num.parse::<Decimal>().ok().map(Twelfths::from_twelfths),
        Some(_) => None,
        None => s.parse::<Decimal>().ok().and_then(Twelfths::from_value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_up_exactly() {
        // 0.485 × 36292.00 = 17601.62 exactly
        assert_eq!(
            mul_div_round(&[dec!(5.82), dec!(36292.00)], dec!(12), 2),
            Some(dec!(17601.62))
        );
        // exactly on a half fen rounds up
        assert_eq!(mul_div_round(&[dec!(0.06)], dec!(12), 2), Some(dec!(0.01)));
        assert_eq!(
            mul_div_round(&[dec!(0.0599999)], dec!(12), 2),
            Some(dec!(0.00))
        );
        // repeating: 1/3 = 0.333…
        assert_eq!(mul_div_round(&[dec!(1)], dec!(3), 4), Some(dec!(0.3333)));
        assert_eq!(mul_div_round(&[dec!(2)], dec!(3), 4), Some(dec!(0.6667)));
        assert_eq!(mul_div_round(&[dec!(1)], dec!(0), 2), None);
        assert_eq!(
            mul_div_round(&[dec!(-0.06)], dec!(12), 2),
            Some(dec!(-0.01))
        );
        // scales cancel: 1173441.33 × 12 / 388
        assert_eq!(
            mul_div_round(&[dec!(1173441.33), dec!(12)], dec!(388), 2),
            Some(dec!(36292.00))
        );
    }

    #[test]
    fn floors() {
        assert_eq!(mul_div_floor(&[dec!(23.99)], dec!(12)), Some(dec!(1)));
        assert_eq!(mul_div_floor(&[dec!(24)], dec!(12)), Some(dec!(2)));
        assert_eq!(mul_div_floor(&[dec!(0)], dec!(12)), Some(dec!(0)));
    }

    #[test]
    fn twelfths_text_round_trips() {
        let n = Twelfths::from_twelfths(dec!(388));
        assert_eq!(n.exact_string(), "388/12");
        assert_eq!(n.round(4), dec!(32.3333));
        let r = Twelfths::from_twelfths(dec!(5.820));
        assert_eq!(r.exact_string(), "0.485");
        assert_eq!(
            parse_exact("0.485"),
            Some(Twelfths::from_twelfths(dec!(5.820)))
        );
        assert_eq!(parse_exact("388/12"), Some(n));
        assert_eq!(Twelfths::from_twelfths(dec!(24)).exact_string(), "2");
        assert_eq!(Twelfths::ZERO.exact_string(), "0");
    }
}
