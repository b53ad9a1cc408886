//! How the embedding runner builds a model on each device ([`EncoderFactory`]; the model
//! traits themselves are in `crate::encode`), and the numeric precision models run at.
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

/// Numeric precision of the model weights and activations: a plain setting in core (it is
/// recorded in the run's manifest); the engine maps it to a libtorch dtype
/// ([`PrecisionExt`]).
pub use virnucpro_core::precision::Precision;

/// What a [`Precision`] means to libtorch.
pub trait PrecisionExt {
    /// The dtype of the weights and activations.
    fn kind(self) -> Kind;
    /// Half precisions are for GPUs: many CPU kernels lack them or run them slower than
    /// f32, so asking for one on the CPU is refused rather than silently slow.
    fn check_device(self, device: Device) -> Result<(), EmbedError>;
}

impl PrecisionExt for Precision {
    fn kind(self) -> Kind {
        match self {
            Self::Fp32 => Kind::Float,
            Self::Bf16 => Kind::BFloat16,
            Self::Fp16 => Kind::Half,
        }
    }

    fn check_device(self, device: Device) -> Result<(), EmbedError> {
        if self != Self::Fp32 && device == Device::Cpu {
            return Err(EmbedError::Settings(format!(
                "precision {self} needs a CUDA device; use fp32 on the CPU"
            )));
        }
        Ok(())
    }
}
