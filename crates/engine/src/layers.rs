//! The few layer types the encoders are built from, holding tensors loaded by name from a
//! [`Checkpoint`]. They call the same ATen ops as `torch.nn` (`aten::linear`,
//! `aten::layer_norm`), so results match PyTorch's kernel for kernel.
use tch::{Device, Kind, Tensor};

use crate::weights::{Checkpoint, WeightError};

/// Whether attention runs as one fused `scaled_dot_product_attention` call instead of the
/// reference implementations' own op sequence (matmul, scale, mask, softmax, matmul).
///
/// The fused kernel sums in another order, so its results differ from the reference in the
/// last bits; the reference sequence, in the reference's shapes, is bit-identical to PyTorch
/// running the original code on the same machine (docs/models.md, "Parity"). In f32, the
/// precision of parity, that costs 4-5 % per layer on the CPU and at most 6 % on an H200;
/// in bf16 and f16, which never match an f32 reference anyway, it would cost 1.3-3x per
/// layer on the GPU, so they keep the fused kernel.
pub(crate) fn fused_attention(kind: Kind) -> bool {
    matches!(kind, Kind::Half | Kind::BFloat16)
}

/// `torch.nn.Linear`: `y = x Wᵀ + b`.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Loads `{prefix}.weight` and, if `bias`, `{prefix}.bias`.
    pub fn load(
        checkpoint: &Checkpoint,
        prefix: &str,
        bias: bool,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        let weight = checkpoint.load(&format!("{prefix}.weight"), kind, device)?;
        let bias = if bias {
            Some(checkpoint.load(&format!("{prefix}.bias"), kind, device)?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }
}

/// `torch.nn.LayerNorm` over the last dimension, with affine weight and bias.
#[derive(Debug)]
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f64,
}

impl LayerNorm {
    /// Loads `{prefix}.weight` and `{prefix}.bias`.
    pub fn load(
        checkpoint: &Checkpoint,
        prefix: &str,
        eps: f64,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            weight: checkpoint.load(&format!("{prefix}.weight"), kind, device)?,
            bias: checkpoint.load(&format!("{prefix}.bias"), kind, device)?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let width = self.weight.size();
        x.layer_norm(
            width.as_slice(),
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
            true,
        )
    }
}

/// Speed-ups of the half-precision encoders (bf16, f16), each a switch of its own so that
/// a GPU benchmark can measure it alone (`examples/encoder_bench.rs`, `ablate`). They
/// change only how the same values are computed or where they are kept; in f32 none of them
/// applies ([`FastPath::effective`]), so f32 stays op for op the reference computation.
///
/// Written as text (`all`, `none`, or a comma list such as `-pool,-position_cache` or
/// `none,+gelu`): a list starts from all switches on unless its first entry is `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastPath {
    /// ESM-2: the input checks read the device once per batch (was four reads, then one
    /// more for the pooling), and the VirNucPro mean is one masked sum over the batch
    /// instead of four small ops per row launched after the whole forward has drained.
    /// DNABERT-S pools with a mask already and reads nothing back: no effect there.
    pub pool: bool,
    /// Position tables built once and reused: ESM-2's rotary `cos`/`sin` once per batch
    /// for all layers (was per layer), DNABERT-S's ALiBi table once per model; both grow to
    /// the longest batch seen and are narrowed, which gives the same values.
    pub position_cache: bool,
    /// ESM-2's GELU as the one `aten::gelu` (erf) kernel instead of the reference's
    /// five-op formula; rounds differently. DNABERT-S uses `aten::gelu` already.
    pub gelu: bool,
    /// Residual adds, GELU, the gate product and padding fills in place, on tensors just
    /// made, instead of allocating a result each.
    pub in_place: bool,
    /// ESM-2's `embed` runs a batch as one packed sequence, `[tokens, hidden]` with no
    /// padding: the linears, norms and GELU skip the padded positions, and attention runs
    /// per row (the varlen flash kernel on CUDA). Not in [`FastPath::DEFAULT`]: the CUDA
    /// kernel call is unmeasured. Representations for all layers stay padded. DNABERT-S has
    /// no packed path (docs/models.md): no effect there.
    pub packed: bool,
}

/// A [`FastPath`] text naming no switch.
#[derive(Debug, thiserror::Error)]
#[error("unknown fast-path switch '{0}' (known: all, none, {names})", names = FastPath::NAMES.join(", "))]
pub struct FastPathError(pub String);

impl FastPath {
    /// Every switch off: the reference computation.
    pub const EXACT: Self = Self {
        pool: false,
        position_cache: false,
        gelu: false,
        in_place: false,
        packed: false,
    };
    /// Every switch on.
    pub const ALL: Self = Self {
        pool: true,
        position_cache: true,
        gelu: true,
        in_place: true,
        packed: true,
    };
    /// What runs by default in bf16 and f16: every switch but [`FastPath::packed`], whose
    /// CUDA kernel has not been measured (nor run) on a GPU yet.
    pub const DEFAULT: Self = Self {
        packed: false,
        ..Self::ALL
    };
    /// The switch names, as [`FastPath::from_str`](std::str::FromStr) reads them.
    pub const NAMES: [&'static str; 5] = ["pool", "position_cache", "gelu", "in_place", "packed"];

    /// What a model loaded in `kind` runs by default: [`FastPath::DEFAULT`] in bf16 and
    /// f16, nothing in f32.
    pub fn for_kind(kind: Kind) -> Self {
        Self::DEFAULT.effective(kind)
    }

    /// The switches that apply in `kind`: these in bf16 and f16, none in f32 (whose
    /// results must stay bit-identical to the reference).
    pub fn effective(self, kind: Kind) -> Self {
        if fused_attention(kind) {
            self
        } else {
            Self::EXACT
        }
    }

    fn switch(&mut self, name: &str) -> Option<&mut bool> {
        match name {
            "pool" => Some(&mut self.pool),
            // The ESM-2 name of the same switch.
            "position_cache" | "rotary_cache" => Some(&mut self.position_cache),
            "gelu" => Some(&mut self.gelu),
            "in_place" => Some(&mut self.in_place),
            "packed" => Some(&mut self.packed),
            _ => None,
        }
    }
}

impl std::fmt::Display for FastPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = [
            self.pool,
            self.position_cache,
            self.gelu,
            self.in_place,
            self.packed,
        ];
        let named = |want: bool| -> Vec<&str> {
            Self::NAMES
                .iter()
                .zip(on)
                .filter_map(|(name, on)| (on == want).then_some(*name))
                .collect()
        };
        let (on, off) = (named(true), named(false));
        // The shorter of the two spellings: the default reads `-packed`.
        match (on.len(), off.len()) {
            (0, _) => f.write_str("none"),
            (_, 0) => f.write_str("all"),
            (n, m) if n > m => write!(f, "-{}", off.join(",-")),
            _ => write!(f, "none,+{}", on.join(",+")),
        }
    }
}

impl std::str::FromStr for FastPath {
    type Err = FastPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut fast = Self::ALL;
        for (i, entry) in text.split(',').map(str::trim).enumerate() {
            match entry {
                "" | "all" if i == 0 => {}
                "none" if i == 0 => fast = Self::EXACT,
                _ => {
                    let (on, name) = match entry.strip_prefix('-') {
                        Some(name) => (false, name),
                        None => (true, entry.strip_prefix('+').unwrap_or(entry)),
                    };
                    *fast
                        .switch(name)
                        .ok_or_else(|| FastPathError(entry.to_string()))? = on;
                }
            }
        }
        Ok(fast)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_text_round_trips() {
        for text in [
            "all",
            "none",
            "none,+pool",
            "none,+position_cache,+in_place",
            "-packed",
            "-pool,-packed",
        ] {
            let fast: FastPath = text.parse().unwrap();
            assert_eq!(fast.to_string(), text);
        }
        let fast: FastPath = "-rotary_cache,-pool".parse().unwrap();
        assert_eq!(
            fast,
            FastPath {
                pool: false,
                position_cache: false,
                ..FastPath::ALL
            }
        );
        assert_eq!("".parse::<FastPath>().unwrap(), FastPath::ALL);
        let err = "-pol".parse::<FastPath>().unwrap_err().to_string();
        assert!(err.contains("'-pol'") && err.contains("in_place"), "{err}");
        assert!("pool,none".parse::<FastPath>().is_err());
    }

    #[test]
    fn only_half_precisions_take_the_fast_path() {
        assert_eq!(FastPath::for_kind(Kind::BFloat16), FastPath::DEFAULT);
        assert_eq!(FastPath::for_kind(Kind::Half), FastPath::DEFAULT);
        // Packing stays off until measured on a GPU; everything else is on.
        const { assert!(!FastPath::DEFAULT.packed) };
        assert_eq!(
            FastPath {
                packed: true,
                ..FastPath::DEFAULT
            },
            FastPath::ALL
        );
        assert_eq!(FastPath::for_kind(Kind::Float), FastPath::EXACT);
        assert_eq!(FastPath::ALL.effective(Kind::Double), FastPath::EXACT);
    }
}
