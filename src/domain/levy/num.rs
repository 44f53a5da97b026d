//! Allocation-free number text for the explanation: a decimal, money, count or date
//! formatted into a small stack buffer. The explanation writes dozens of numbers per
//! calculation; going through `Decimal`'s `Display` and a `String` each time cost more
//! than the calculation itself (see the engine targets in BENCHMARKS.md).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::exact::Twelfths;
use super::MonthSet;
use crate::domain::money::round2;

const CAP: usize = 48;

/// "00" to "99", for two digits per division.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// A number as text, on the stack.
#[derive(Clone, Copy)]
pub(crate) struct Num {
    b: [u8; CAP],
    len: u8,
}

impl Num {
    pub(crate) const EMPTY: Num = Num {
        b: [0; CAP],
        len: 0,
    };

    pub(crate) fn as_str(&self) -> &str {
        let bytes = &self.b[..usize::from(self.len.min(CAP as u8))];
        // SAFETY: bytes only get in through `push` (which stores ASCII bytes only),
        // `push_ascii` (given ASCII literals only) and `write_digits`/`push_decimal`
        // (which write only digits, `b'.'` and `b'0'`); so the buffer is always ASCII,
        // hence valid UTF-8. (Validating here cost 8 % of an explained calculation:
        // numbers are read several times each.)
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Appends one ASCII byte (anything else is dropped, keeping the buffer ASCII).
    pub(crate) fn push(&mut self, c: u8) {
        if c.is_ascii() && usize::from(self.len) < CAP {
            self.b[usize::from(self.len)] = c;
            self.len += 1;
        }
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        for &c in s.as_bytes() {
            self.push(c);
        }
    }

    /// Appends ASCII literals of this module: ASCII by construction, so they are copied
    /// without a check.
    fn push_ascii(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.is_ascii());
        let at = usize::from(self.len);
        let n = bytes.len().min(CAP - at);
        self.b[at..at + n].copy_from_slice(&bytes[..n]);
        self.len += n as u8;
    }

    /// Pushes the digits of `n`, written in place (no temporary buffer or copy).
    pub(crate) fn push_u128(&mut self, n: u128) {
        let at = usize::from(self.len);
        let nd = ndigits(n);
        if at + nd > CAP {
            return;
        }
        write_digits(&mut self.b[at..at + nd], n);
        self.len += nd as u8;
    }

    /// Pushes `mantissa / 10^scale` with at least `min_dp` decimals; trailing zeros beyond
    /// `min_dp` are dropped. Digits are written in place.
    fn push_decimal(&mut self, d: Decimal, min_dp: u32) {
        let m = d.mantissa();
        let u = m.unsigned_abs();
        let scale = d.scale() as usize;
        let min_dp = min_dp as usize;
        // At least one integer digit: 0.005 has mantissa 5 and three fraction digits.
        let total = ndigits(u).max(scale + 1);
        let int_len = total - scale;
        let at = usize::from(self.len) + usize::from(m < 0);
        if at + total + 1 + min_dp > CAP {
            return; // cannot happen for a Decimal (≤ 29 digits) in a fresh Num
        }
        if m < 0 {
            self.push(b'-');
        }
        // Integer digits, then (one place further right) the fraction digits.
        let frac_at = at + int_len + 1;
        match (u64::try_from(u), POW10.get(scale)) {
            (Ok(v), Some(&p)) => {
                write_digits(&mut self.b[at..at + int_len], u128::from(v / p));
                write_digits(&mut self.b[frac_at..frac_at + scale], u128::from(v % p));
            }
            _ => {
                write_digits(&mut self.b[at..at + total], u);
                self.b.copy_within(at + int_len..at + total, frac_at);
            }
        }
        self.b[at + int_len] = b'.';
        let mut keep = scale;
        while keep > min_dp && self.b[frac_at + keep - 1] == b'0' {
            keep -= 1;
        }
        for i in keep..min_dp {
            self.b[frac_at + i] = b'0';
        }
        let frac = keep.max(min_dp);
        let end = if frac == 0 {
            at + int_len
        } else {
            frac_at + frac
        };
        self.len = end as u8;
    }

    /// A decimal without trailing zeros ("0.015", "2", "36292").
    pub(crate) fn dec(d: Decimal) -> Num {
        let mut n = Num::EMPTY;
        n.push_decimal(d, 0);
        n
    }

    /// Money: half-up to the fen, exactly two decimals ("36292.00").
    pub(crate) fn money(d: Decimal) -> Num {
        let mut n = Num::EMPTY;
        n.push_decimal(round2(d), 2);
        n
    }

    /// A value already rounded to at most `dp` decimals, shown with exactly `dp`.
    pub(crate) fn fixed(d: Decimal, dp: u32) -> Num {
        let mut n = Num::EMPTY;
        n.push_decimal(d, dp);
        n
    }

    /// The exact count: a finite decimal ("0.485") or a fraction over 12 ("388/12").
    pub(crate) fn exact(t: Twelfths) -> Num {
        match t.exact_decimal_raw() {
            Some(d) => Num::dec(d),
            None => {
                let mut n = Num::dec(t.twelfths());
                n.push_str("/12");
                n
            }
        }
    }

    /// A fraction as a percentage ("1.5%").
    pub(crate) fn pct(r: Decimal) -> Num {
        let mut n = Num::dec(r * Decimal::ONE_HUNDRED);
        n.push(b'%');
        n
    }

    /// Money as a person reads it: thousands separated, two decimals ("25,920.00").
    pub(crate) fn yuan(d: Decimal) -> Num {
        Num::money(d).grouped()
    }

    /// A count of people as a person reads it: half-up to 4 decimals, trailing zeros
    /// dropped, thousands separated ("2.4", "150", "32.3333", "1,200").
    pub(crate) fn people(t: Twelfths) -> Num {
        Num::dec(t.round(4)).grouped()
    }

    /// The same number with a comma between each group of three integer digits.
    pub(crate) fn grouped(self) -> Num {
        let s = self.as_bytes();
        let sign = usize::from(s.first() == Some(&b'-'));
        let int_end = s.iter().position(|&c| c == b'.').unwrap_or(s.len());
        let digits = int_end.saturating_sub(sign);
        if digits <= 3 || s[sign..int_end].iter().any(|c| !c.is_ascii_digit()) {
            return self;
        }
        let mut n = Num::EMPTY;
        n.push_ascii(&s[..sign]);
        for (i, &c) in s[sign..int_end].iter().enumerate() {
            if i > 0 && (digits - i) % 3 == 0 {
                n.push(b',');
            }
            n.push(c);
        }
        n.push_ascii(&s[int_end..]);
        n
    }

    fn as_bytes(&self) -> &[u8] {
        &self.b[..usize::from(self.len.min(CAP as u8))]
    }

    /// A whole number.
    pub(crate) fn uint(v: u64) -> Num {
        let mut n = Num::EMPTY;
        n.push_u128(u128::from(v));
        n
    }

    /// A date as YYYY-MM-DD.
    pub(crate) fn date(d: NaiveDate) -> Num {
        let mut n = Num::EMPTY;
        let y = d.year();
        if (0..=9999).contains(&y) {
            let y = y as u32;
            for c in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
                n.push(b'0' + c as u8);
            }
        } else {
            n.push_str(&d.to_string());
            return n;
        }
        for v in [d.month(), d.day()] {
            n.push(b'-');
            n.push(b'0' + (v / 10) as u8);
            n.push(b'0' + (v % 10) as u8);
        }
        n
    }

    /// Months as "1,2,3" (empty for none).
    pub(crate) fn months(s: MonthSet) -> Num {
        let mut n = Num::EMPTY;
        if s == MonthSet::ALL {
            // The common case: employed all year.
            n.push_ascii(b"1,2,3,4,5,6,7,8,9,10,11,12");
            return n;
        }
        for m in s.iter() {
            if n.len > 0 {
                n.push(b',');
            }
            if m >= 10 {
                n.push(b'1');
            }
            n.push(b'0' + m % 10);
        }
        n
    }
}

/// Powers of ten that fit in `u64`, for splitting a mantissa at its decimal point.
const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// Number of decimal digits of `n` (1 for zero).
fn ndigits(n: u128) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Fills `out` with the last `out.len()` decimal digits of `n`, zero-padded on the left.
fn write_digits(out: &mut [u8], mut n: u128) {
    let mut i = out.len();
    while n > u128::from(u64::MAX) && i > 0 {
        i -= 1;
        out[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let mut m = n as u64;
    // Two digits per division.
    while i >= 2 {
        let r = (m % 100) as usize;
        m /= 100;
        i -= 2;
        out[i] = PAIRS[2 * r];
        out[i + 1] = PAIRS[2 * r + 1];
    }
    if i == 1 {
        out[0] = b'0' + (m % 10) as u8;
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::{format_count, format_money};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn formats_like_decimal_display() {
        assert_eq!(Num::dec(dec!(0.015)).as_str(), "0.015");
        assert_eq!(Num::dec(dec!(2.000)).as_str(), "2");
        assert_eq!(Num::dec(dec!(0)).as_str(), "0");
        assert_eq!(Num::dec(Decimal::new(0, 3)).as_str(), "0");
        assert_eq!(Num::dec(Decimal::new(5, 3)).as_str(), "0.005");
        assert_eq!(Num::dec(Decimal::new(500, 3)).as_str(), "0.5");
        assert_eq!(Num::fixed(Decimal::new(0, 3), 2).as_str(), "0.00");
        assert_eq!(Num::fixed(Decimal::new(5, 3), 4).as_str(), "0.0050");
        assert_eq!(Num::money(Decimal::new(123, 0)).as_str(), "123.00");
        assert_eq!(Num::dec(dec!(-0.5)).as_str(), "-0.5");
        assert_eq!(Num::money(dec!(36292)).as_str(), "36292.00");
        assert_eq!(Num::money(dec!(0.005)).as_str(), "0.01");
        assert_eq!(Num::money(dec!(0.1)).as_str(), "0.10");
        assert_eq!(
            Num::exact(Twelfths::from_twelfths(dec!(388))).as_str(),
            "388/12"
        );
        assert_eq!(
            Num::exact(Twelfths::from_twelfths(dec!(5.82))).as_str(),
            "0.485"
        );
        assert_eq!(Num::pct(dec!(0.015)).as_str(), "1.5%");
        assert_eq!(Num::uint(0).as_str(), "0");
        assert_eq!(Num::uint(1234567).as_str(), "1234567");
        assert_eq!(
            Num::date(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default()).as_str(),
            "2025-03-01"
        );
        assert_eq!(
            Num::months(MonthSet::from_months(&[1, 10, 12]).unwrap_or_default()).as_str(),
            "1,10,12"
        );
        assert_eq!(Num::fixed(dec!(0.01), 6).as_str(), "0.010000");
        assert_eq!(Num::yuan(dec!(25920)).as_str(), "25,920.00");
        assert_eq!(Num::yuan(dec!(1234567.891)).as_str(), "1,234,567.89");
        assert_eq!(Num::yuan(dec!(999.995)).as_str(), "1,000.00");
        assert_eq!(Num::yuan(dec!(0)).as_str(), "0.00");
        assert_eq!(Num::dec(dec!(-1234.5)).grouped().as_str(), "-1,234.5");
        assert_eq!(Num::dec(dec!(123)).grouped().as_str(), "123");
        assert_eq!(
            Num::people(Twelfths::from_twelfths(dec!(388))).as_str(),
            "32.3333"
        );
        assert_eq!(
            Num::people(Twelfths::from_value(dec!(150)).unwrap_or_default()).as_str(),
            "150"
        );
        assert_eq!(
            Num::people(Twelfths::from_value(dec!(2.4)).unwrap_or_default()).as_str(),
            "2.4"
        );
        assert_eq!(
            Num::people(Twelfths::from_value(dec!(12000)).unwrap_or_default()).as_str(),
            "12,000"
        );

        assert_eq!(Num::dec(Decimal::MAX).as_str(), Decimal::MAX.to_string());
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference_formatting(m in prop_oneof![any::<i64>(), -1000i64..1000], scale in 0u32..12) {
            let d = Decimal::new(m, scale);
            prop_assert_eq!(Num::dec(d).as_str().to_owned(), d.normalize().to_string());
            prop_assert_eq!(Num::money(d.abs()).as_str().to_owned(), format_money(d.abs()));
            let r4 = d.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(Num::fixed(r4, 4).as_str().to_owned(), format_count(d, 4));
        }
    }
}
