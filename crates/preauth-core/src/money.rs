//! Money: a [`Decimal`] amount in an ISO 4217 [`Currency`] with its exponent.
//!
//! No floating point anywhere. Every conversion is checked: sub-minor precision (0.001 EUR),
//! negative amounts and overflow are errors, never silent rounding.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency, with its minor-unit exponent (JPY 0, EUR 2, BHD 3, CLF 4).
///
/// The table comes from the maintained `iso_currency` crate; currencies without a minor unit
/// in ISO 4217 (gold, SDR, test codes) are refused because money in them cannot be held.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);
    /// US dollar.
    pub const USD: Currency = Currency(iso_currency::Currency::USD);
    /// Brazilian real.
    pub const BRL: Currency = Currency(iso_currency::Currency::BRL);
    /// Mexican peso.
    pub const MXN: Currency = Currency(iso_currency::Currency::MXN);
    /// Colombian peso.
    pub const COP: Currency = Currency(iso_currency::Currency::COP);
    /// Chilean peso (exponent 0).
    pub const CLP: Currency = Currency(iso_currency::Currency::CLP);
    /// Peruvian sol.
    pub const PEN: Currency = Currency(iso_currency::Currency::PEN);
    /// Japanese yen (exponent 0).
    pub const JPY: Currency = Currency(iso_currency::Currency::JPY);
    /// Bahraini dinar (exponent 3).
    pub const BHD: Currency = Currency(iso_currency::Currency::BHD);
    /// Chilean unit of account (exponent 4).
    pub const CLF: Currency = Currency(iso_currency::Currency::CLF);
    /// Swiss franc.
    pub const CHF: Currency = Currency(iso_currency::Currency::CHF);
    /// Pound sterling.
    pub const GBP: Currency = Currency(iso_currency::Currency::GBP);

    /// Looks a currency up by its ISO 4217 alphabetic code (upper case, e.g. `"EUR"`).
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] when the code is not an ISO 4217 currency with a
    /// minor unit.
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        let c = iso_currency::Currency::from_code(code)
            .ok_or_else(|| MoneyError::UnknownCurrency(truncate(code)))?;
        if c.exponent().is_none() {
            return Err(MoneyError::UnknownCurrency(truncate(code)));
        }
        Ok(Currency(c))
    }

    /// The ISO 4217 alphabetic code, e.g. `"EUR"`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// The number of decimal places of the minor unit (EUR 2, JPY 0, BHD 3, CLF 4).
    pub fn exponent(self) -> u32 {
        // `from_code` refuses currencies without an exponent; the constants all have one.
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(8).collect()
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::from_code(&s).map_err(serde::de::Error::custom)
    }
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not an ISO 4217 currency with a minor unit.
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    /// More decimal places than the currency's minor unit (0.001 EUR, 1.5 JPY).
    #[error("{amount} has more decimal places than {currency} allows ({exponent})")]
    SubMinorPrecision {
        /// The amount as given.
        amount: String,
        /// The currency.
        currency: &'static str,
        /// The currency's exponent.
        exponent: u32,
    },
    /// Amounts are never negative.
    #[error("amount {0} is negative")]
    Negative(String),
    /// The amount does not fit the target representation.
    #[error("amount overflows")]
    Overflow,
    /// Two amounts in different currencies were combined or compared.
    #[error("currency mismatch: {left} vs {right}")]
    CurrencyMismatch {
        /// The first currency.
        left: &'static str,
        /// The second currency.
        right: &'static str,
    },
    /// A decimal string that is not of the form `digits[.digits]`.
    #[error("invalid amount {0:?}: expected digits with an optional decimal point")]
    InvalidFormat(String),
}

/// A non-negative amount of money in one currency, exact to its minor unit.
///
/// Construction checks that the amount is not negative and has no more decimal places than
/// the currency's exponent, so a `Money` always converts to minor units without rounding
/// (except on overflow of `i64`, which is reported).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// A checked amount in major units (`Decimal` `24.99` EUR).
    ///
    /// # Errors
    /// [`MoneyError::Negative`] or [`MoneyError::SubMinorPrecision`].
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative(amount.to_string()));
        }
        let normalized = amount.normalize();
        if normalized.scale() > currency.exponent() {
            return Err(MoneyError::SubMinorPrecision {
                amount: amount.to_string(),
                currency: currency.code(),
                exponent: currency.exponent(),
            });
        }
        let mut amount = normalized;
        // Canonical scale = exponent, so equal amounts are equal values and print alike.
        amount.rescale(currency.exponent());
        Ok(Money { amount, currency })
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.exponent());
        Money { amount, currency }
    }

    /// From integer minor units (`1000` BRL = 10.00 BRL; `1000` JPY = 1000 JPY).
    ///
    /// # Errors
    /// [`MoneyError::Negative`] for a negative count.
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative(minor.to_string()));
        }
        let amount = Decimal::from_i128_with_scale(i128::from(minor), currency.exponent());
        Ok(Money { amount, currency })
    }

    /// Parses a major-unit decimal string (`"200"`, `"200.00"`, `"24.99"`), strictly: ASCII
    /// digits with at most one decimal point; no sign, exponent, spaces or thousands
    /// separators.
    ///
    /// # Errors
    /// [`MoneyError::InvalidFormat`], [`MoneyError::SubMinorPrecision`] or
    /// [`MoneyError::Overflow`].
    pub fn parse_major(s: &str, currency: Currency) -> Result<Self, MoneyError> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f)) {
            return Err(MoneyError::InvalidFormat(truncate_amount(s)));
        }
        // 28 significant digits is Decimal's limit; longer inputs are overflow, not rounding.
        if int.len() + frac.map_or(0, str::len) > 28 {
            return Err(MoneyError::Overflow);
        }
        let amount = Decimal::from_str_exact(s).map_err(|_| MoneyError::Overflow)?;
        Money::new(amount, currency)
    }

    /// The amount in major units, at the currency's scale (`24.99`, `200.00`, `1000`).
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Integer minor units (`10.00` BRL → `1000`).
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] when the count does not fit an `i64`.
    pub fn to_minor_units(&self) -> Result<i64, MoneyError> {
        let m = self.amount.mantissa();
        // Scale is the currency exponent by construction, so the mantissa is the count.
        debug_assert_eq!(self.amount.scale(), self.currency.exponent());
        i64::try_from(m).map_err(|_| MoneyError::Overflow)
    }

    /// The major-unit decimal string at the currency's scale: `"200.00"` EUR, `"1000"` JPY,
    /// `"1.500"` BHD.
    pub fn to_major_string(&self) -> String {
        self.amount.to_string()
    }

    /// The shortest major-unit decimal string: `"200"`, `"24.99"`, `"0.1"`.
    pub fn to_major_string_trimmed(&self) -> String {
        self.amount.normalize().to_string()
    }

    /// `self + other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// `self - other`; a negative result is an error.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Negative`].
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    /// `self - other`, or zero when `other` is larger (for "what remains" arithmetic).
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`].
    pub fn saturating_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        if other.amount >= self.amount {
            Ok(Money::zero(self.currency))
        } else {
            self.checked_sub(other)
        }
    }

    /// Compares two amounts of the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`].
    pub fn checked_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency.code(),
                right: other.currency.code(),
            })
        }
    }
}

fn truncate_amount(s: &str) -> String {
    s.chars().take(32).collect()
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Serialized as `{"amount": "24.99", "currency": "EUR"}`: the amount is a string, never a
/// JSON number, so no float ever sees it.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.to_major_string())?;
        st.serialize_field("currency", &self.currency)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw<'a> {
            #[serde(borrow)]
            amount: std::borrow::Cow<'a, str>,
            currency: Currency,
        }
        let raw = Raw::deserialize(d)?;
        Money::parse_major(&raw.amount, raw.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn exp(code: &str, e: u32) {
        assert_eq!(Currency::from_code(code).unwrap().exponent(), e, "{code}");
    }

    #[test]
    fn exponents_of_odd_currencies() {
        exp("JPY", 0);
        exp("CLP", 0);
        exp("BRL", 2);
        exp("EUR", 2);
        exp("COP", 2);
        exp("BHD", 3);
        exp("CLF", 4);
        exp("ISK", 0);
        exp("IQD", 3);
        exp("LYD", 3);
    }

    #[test]
    fn unknown_and_unitless_currencies_are_refused() {
        assert!(matches!(
            Currency::from_code("XXX"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Currency::from_code("XAU"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Currency::from_code("eur"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Currency::from_code(""),
            Err(MoneyError::UnknownCurrency(_))
        ));
    }

    #[track_caller]
    fn major(s: &str, c: Currency, minor: i64, canonical: &str) {
        let m = Money::parse_major(s, c).unwrap();
        assert_eq!(m.to_minor_units().unwrap(), minor, "{s} {c}");
        assert_eq!(m.to_major_string(), canonical);
        assert_eq!(Money::from_minor(minor, c).unwrap(), m);
    }

    #[test]
    fn major_strings_round_trip_through_minor_units() {
        major("200", Currency::USD, 20000, "200.00");
        major("200.00", Currency::USD, 20000, "200.00");
        major("24.99", Currency::EUR, 2499, "24.99");
        major("0.1", Currency::EUR, 10, "0.10");
        major("1000", Currency::JPY, 1000, "1000");
        major("1000.0", Currency::CLP, 1000, "1000");
        major("1.5", Currency::BHD, 1500, "1.500");
        major("0.0001", Currency::CLF, 1, "0.0001");
        major("10", Currency::BRL, 1000, "10.00");
        major("0", Currency::COP, 0, "0.00");
    }

    #[test]
    fn trimmed_major_string() {
        let m = Money::parse_major("200.00", Currency::USD).unwrap();
        assert_eq!(m.to_major_string_trimmed(), "200");
        let m = Money::parse_major("0.10", Currency::EUR).unwrap();
        assert_eq!(m.to_major_string_trimmed(), "0.1");
    }

    #[test]
    fn sub_minor_precision_is_an_error_never_rounded() {
        for (s, c) in [
            ("0.001", Currency::EUR),
            ("1.5", Currency::JPY),
            ("1.5", Currency::CLP),
            ("0.0001", Currency::BHD),
            ("0.00001", Currency::CLF),
            ("24.999", Currency::BRL),
        ] {
            assert!(
                matches!(
                    Money::parse_major(s, c),
                    Err(MoneyError::SubMinorPrecision { .. })
                ),
                "{s} {c}"
            );
        }
        // Trailing zeros are not extra precision.
        assert!(Money::parse_major("1.000", Currency::JPY).is_ok());
    }

    #[test]
    fn malformed_strings_are_refused() {
        for s in [
            "", "-1", "+1", "1e3", " 1", "1 ", "1,00", "1.", ".5", "1.2.3", "0x10", "NaN", "١٢",
        ] {
            assert!(
                matches!(
                    Money::parse_major(s, Currency::EUR),
                    Err(MoneyError::InvalidFormat(_))
                ),
                "{s:?}"
            );
        }
    }

    #[test]
    fn negatives_and_overflow_are_errors() {
        assert!(matches!(
            Money::from_minor(-1, Currency::EUR),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            Money::new(Decimal::new(-1, 0), Currency::EUR),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            Money::parse_major("99999999999999999999999999999", Currency::EUR),
            Err(MoneyError::Overflow)
        ));
        let big = Money::parse_major("999999999999999999999", Currency::EUR).unwrap();
        assert_eq!(big.to_minor_units(), Err(MoneyError::Overflow));
        let max = Money::from_minor(i64::MAX, Currency::EUR).unwrap();
        assert_eq!(max.to_minor_units().unwrap(), i64::MAX);
    }

    #[test]
    fn arithmetic_is_checked_and_same_currency_only() {
        let a = Money::parse_major("10.00", Currency::EUR).unwrap();
        let b = Money::parse_major("2.50", Currency::EUR).unwrap();
        assert_eq!(a.checked_sub(&b).unwrap().to_major_string(), "7.50");
        assert_eq!(a.checked_add(&b).unwrap().to_major_string(), "12.50");
        assert!(matches!(b.checked_sub(&a), Err(MoneyError::Negative(_))));
        assert!(b.saturating_sub(&a).unwrap().is_zero());
        let usd = Money::zero(Currency::USD);
        assert!(matches!(
            a.checked_add(&usd),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert!(matches!(
            a.checked_cmp(&usd),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn serde_uses_strings_never_numbers() {
        let m = Money::parse_major("24.99", Currency::EUR).unwrap();
        let j = serde_json::to_string(&m).unwrap();
        assert_eq!(j, r#"{"amount":"24.99","currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&j).unwrap(), m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":24.99,"currency":"EUR"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.001","currency":"EUR"}"#).is_err());
    }
}
