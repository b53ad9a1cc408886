//! Numeric precision of the model weights and activations: a run setting, recorded in the
//! run's manifest (`settings.precision`). The engine maps it to a libtorch dtype.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `fp32`, `bf16` or `fp16` (the manifest's and the IPC's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Exact parity with the reference implementations.
    #[default]
    Fp32,
    Bf16,
    Fp16,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::Fp32, Precision::Bf16, Precision::Fp16];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
            Self::Fp16 => "fp16",
        }
    }

    /// The precision written exactly as [`Precision::as_str`] does (files we wrote); the
    /// command line's aliases are [`FromStr`]'s.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Precision {
    type Err = String;

    /// The canonical names and the usual aliases (`f32`, `float16`, `half`…), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => Ok(Self::Fp32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            "fp16" | "f16" | "float16" | "half" => Ok(Self::Fp16),
            other => Err(format!("unknown precision {other:?} (fp32, bf16 or fp16)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for p in Precision::ALL {
            assert_eq!(Precision::from_name(p.as_str()), Some(p));
            assert_eq!(p.as_str().parse::<Precision>(), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!("HALF".parse::<Precision>(), Ok(Precision::Fp16));
        assert_eq!(Precision::from_name("half"), None);
        assert!("fp64".parse::<Precision>().unwrap_err().contains("fp64"));
    }
}
