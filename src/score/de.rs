//! Serde helpers: exact decimals from TOML.
//!
//! Decimal values are written as strings (`threshold = "0.02"`), which keeps them exact.
//! Integers (`max_points = 15`) are accepted too, since they are exact as well. TOML floats
//! (`threshold = 0.02`) are rejected with a message asking for a string: a binary float cannot
//! hold 0.02 exactly, and a threshold that is off by 1e-18 changes verdicts at the boundary.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number written as a string, e.g. \"0.02\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        Decimal::from_str(v.trim()).map_err(|e| E::custom(format!("`{v}` is not a decimal number: {e}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "write decimal numbers as strings (\"{v}\", not {v}) so they stay exact"
        )))
    }
}

/// `#[serde(with = "dec")]` for a required `Decimal`.
pub(crate) mod dec {
    use super::*;

    /// Deserialises a decimal from a string or an integer.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// `#[serde(default, with = "dec_opt")]` for an optional `Decimal`.
pub(crate) mod dec_opt {
    use super::*;

    /// Deserialises a present decimal from a string or an integer.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_any(DecimalVisitor).map(Some)
    }
}
