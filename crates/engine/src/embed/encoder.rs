//! How the embedding runner builds a model on each device ([`EncoderFactory`]; the model
//! traits themselves are in `crate::encode`), and the numeric precision models run at.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

use super::EmbedError;
use crate::encode::Encode;

/// Builds one model copy per device, inside the worker thread that will use it.
pub trait EncoderFactory: Sync {
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError>;
}

impl<F> EncoderFactory for F
where
    F: Fn(Device) -> Result<Box<dyn Encode>, EmbedError> + Sync,
{
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError> {
        self(device)
    }
}

/// Numeric precision of the model weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Exact parity with the reference implementations.
    #[default]
    Fp32,
    Bf16,
    Fp16,
}

impl Precision {
    pub fn kind(self) -> Kind {
        match self {
            Self::Fp32 => Kind::Float,
            Self::Bf16 => Kind::BFloat16,
            Self::Fp16 => Kind::Half,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
            Self::Fp16 => "fp16",
        }
    }

    /// Half precisions are for GPUs: many CPU kernels lack them or run them slower than
    /// f32, so asking for one on the CPU is refused rather than silently slow.
    pub fn check_device(self, device: Device) -> Result<(), EmbedError> {
        if self != Self::Fp32 && device == Device::Cpu {
            return Err(EmbedError::Settings(format!(
                "precision {self} needs a CUDA device; use fp32 on the CPU"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => Ok(Self::Fp32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            "fp16" | "f16" | "float16" | "half" => Ok(Self::Fp16),
            other => Err(format!("unknown precision {other:?} (fp32, bf16 or fp16)")),
        }
    }
}
