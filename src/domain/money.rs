//! Money in yuan as exact decimals, rounded half-up to the fen (docs/rules.md §5).

use rust_decimal::{Decimal, RoundingStrategy};

/// An amount of money in yuan. Always exact; rounded to the fen only where the rules say.
pub type Money = Decimal;

/// `round2` of docs/rules.md §5: half-up to the fen, so 0.005 becomes 0.01.
///
/// Levy amounts are never negative, so "away from zero" is "up" for every value that
/// reaches this function; negative inputs mirror it (used only for refunds).
pub fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Converts yuan to integer fen for storage (the database keeps `BIGINT` fen).
/// Returns `None` when the value has fractions of a fen or does not fit in `i64`.
pub fn to_fen(value: Decimal) -> Option<i64> {
    let fen = value.checked_mul(Decimal::ONE_HUNDRED)?;
    if fen.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(fen.trunc()).ok()
}

/// Converts integer fen from storage back to yuan with exactly two decimals.
pub fn from_fen(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Formats money as the API does: a string with exactly two decimals.
pub fn format_money(value: Decimal) -> String {
    let mut v = round2(value);
    v.rescale(2);
    v.to_string()
}

/// Formats an exact count as the API does: half-up to `dp` decimals, with exactly `dp`
/// decimals shown.
pub fn format_count(value: Decimal, dp: u32) -> String {
    let mut v = value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(dp);
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn round2_is_half_up_to_the_fen() {
        assert_eq!(round2(dec!(0.005)), dec!(0.01));
        assert_eq!(round2(dec!(0.0049999)), dec!(0.00));
        assert_eq!(round2(dec!(1760.162)), dec!(1760.16));
        assert_eq!(round2(dec!(217412.94065)), dec!(217412.94));
    }

    #[test]
    fn fen_round_trip_rejects_sub_fen_amounts() {
        assert_eq!(to_fen(dec!(1234.50)), Some(123450));
        assert_eq!(from_fen(123450).to_string(), "1234.50");
        assert_eq!(to_fen(dec!(0.001)), None);
    }

    #[test]
    fn formatting_pads_and_rounds() {
        assert_eq!(format_money(dec!(45000)), "45000.00");
        assert_eq!(format_count(dec!(32.33333333), 4), "32.3333");
        assert_eq!(format_count(dec!(0.00005), 4), "0.0001");
        assert_eq!(format_count(dec!(2), 4), "2.0000");
    }
}
