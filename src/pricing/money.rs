//! Exact money: integer nano-USD amounts and exact decimal parsing of prices.
//!
//! Prices are held as integer nano-USD per million tokens (or per unit for per-request and
//! per-search fees), so `tokens × price` is an exact integer in femto-USD (1e-15). Costs are
//! rounded once, per component, to nano-USD (1e-9), and the total is the sum of the rounded
//! components, so the components always add up to the total exactly.

use std::fmt;

/// Femto-USD (1e-15) per nano-USD (1e-9).
pub(crate) const FEMTO_PER_NANO: u128 = 1_000_000;

/// An exact amount of money in nano-USD (1e-9 USD).
///
/// ```
/// use peekr::pricing::Nanos;
/// let cost = Nanos(1_234_500);
/// assert_eq!(cost.to_string(), "0.001234500");
/// assert_eq!(cost.as_usd_f64(), 0.0012345);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub i64);

impl Nanos {
    /// Zero dollars.
    pub const ZERO: Nanos = Nanos(0);

    /// The amount in USD as a float, for OpenTelemetry attributes and display only.
    #[must_use]
    pub fn as_usd_f64(self) -> f64 {
        // Split so that amounts below 2^53 nanos convert exactly before the division.
        let whole = self.0 / 1_000_000_000;
        let frac = self.0 % 1_000_000_000;
        whole as f64 + frac as f64 / 1e9
    }

    /// Saturating sum.
    #[must_use]
    pub fn saturating_add(self, other: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(other.0))
    }

    /// Rounds an amount in femto-USD (1e-15) half-up to nano-USD, saturating.
    #[must_use]
    pub(crate) fn from_femto(femto: u128) -> Nanos {
        // Below $18,000 a call's femto-USD fit in a u64, whose division is several times
        // cheaper than u128's software division; this runs five times per priced span.
        if let Ok(small) = u64::try_from(femto)
            && let Some(rounded) = small.checked_add(500_000)
        {
            return Nanos(i64::try_from(rounded / 1_000_000).unwrap_or(i64::MAX));
        }
        let nanos = (femto + FEMTO_PER_NANO / 2) / FEMTO_PER_NANO;
        Nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
    }

    /// Parses a decimal USD amount (`"0.0012345"`) exactly; more than 9 decimals is an error.
    ///
    /// # Errors
    ///
    /// Returns a message naming the value when it is not a non-negative decimal or needs more
    /// than nano precision.
    pub fn parse_usd(text: &str) -> Result<Nanos, String> {
        let nanos = parse_decimal_scaled(text, 9)?;
        i64::try_from(nanos)
            .map(Nanos)
            .map_err(|_| format!("amount `{text}` is too large"))
    }
}

impl fmt::Display for Nanos {
    /// Formats as a decimal USD amount with exactly nine decimals, e.g. `0.000150000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:09}",
            abs / 1_000_000_000,
            abs % 1_000_000_000
        )
    }
}

impl std::iter::Sum for Nanos {
    fn sum<I: Iterator<Item = Nanos>>(iter: I) -> Nanos {
        iter.fold(Nanos::ZERO, Nanos::saturating_add)
    }
}

/// Parses a non-negative decimal (`"2.5"`, `"0.075"`, `"2.5e-06"`, `"3"`) into an integer scaled
/// by `10^scale`, exactly. Digits beyond the scale must be zero.
pub(crate) fn parse_decimal_scaled(text: &str, scale: u32) -> Result<u128, String> {
    let s = text.trim();
    let bad = || format!("`{text}` is not a non-negative decimal number");
    if s.is_empty() || s.starts_with('-') {
        return Err(bad());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => {
            let exp: i32 = s[i + 1..].parse().map_err(|_| bad())?;
            (&s[..i], exp)
        }
        None => (s, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad());
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    // Digits as one integer with `frac_part.len()` implied decimals; then shift by the exponent.
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let shift = i64::from(scale) + i64::from(exp) - frac_part.len() as i64;
    if digits.is_empty() {
        return Ok(0);
    }
    if shift >= 0 {
        let value: u128 = digits
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        let factor = 10u128
            .checked_pow(u32::try_from(shift).map_err(|_| format!("`{text}` is too large"))?)
            .ok_or_else(|| format!("`{text}` is too large"))?;
        value
            .checked_mul(factor)
            .ok_or_else(|| format!("`{text}` is too large"))
    } else {
        let cut = usize::try_from(-shift).unwrap_or(usize::MAX);
        if cut > digits.len() {
            return Err(format!("`{text}` has more than {scale} decimal places"));
        }
        let (keep, drop) = digits.split_at(digits.len() - cut);
        if drop.bytes().any(|b| b != b'0') {
            return Err(format!("`{text}` has more than {scale} decimal places"));
        }
        if keep.is_empty() {
            return Ok(0);
        }
        keep.parse().map_err(|_| format!("`{text}` is too large"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_decimal_scaled("2.5", 9), Ok(2_500_000_000));
        assert_eq!(parse_decimal_scaled("0.075", 9), Ok(75_000_000));
        assert_eq!(parse_decimal_scaled("2.5e-06", 15), Ok(2_500_000_000));
        assert_eq!(parse_decimal_scaled("3", 9), Ok(3_000_000_000));
        assert_eq!(parse_decimal_scaled("0.000000001", 9), Ok(1));
        assert_eq!(parse_decimal_scaled("1.10", 6), Ok(1_100_000));
        assert_eq!(parse_decimal_scaled("0", 9), Ok(0));
        assert_eq!(parse_decimal_scaled(".5", 1), Ok(5));
    }

    #[test]
    fn decimals_reject_bad_input() {
        assert!(parse_decimal_scaled("-1", 9).is_err());
        assert!(parse_decimal_scaled("abc", 9).is_err());
        assert!(parse_decimal_scaled("", 9).is_err());
        assert!(parse_decimal_scaled("1.2.3", 9).is_err());
        assert_eq!(
            parse_decimal_scaled("0.0000000001", 9),
            Err("`0.0000000001` has more than 9 decimal places".to_owned())
        );
    }

    #[test]
    fn nanos_display_has_nine_decimals() {
        assert_eq!(Nanos(0).to_string(), "0.000000000");
        assert_eq!(Nanos(1).to_string(), "0.000000001");
        assert_eq!(Nanos(12_345_000_000).to_string(), "12.345000000");
        assert_eq!(Nanos(-5).to_string(), "-0.000000005");
    }

    #[test]
    fn femto_rounds_half_up() {
        assert_eq!(Nanos::from_femto(499_999), Nanos(0));
        assert_eq!(Nanos::from_femto(500_000), Nanos(1));
        assert_eq!(Nanos::from_femto(2_500_000), Nanos(3));
    }
}
