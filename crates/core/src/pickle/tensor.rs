//! Tensor references: where a tensor's elements live in the archive and how they are laid out.
//! Nothing is read here; see [`super::TorchArchive::read_f32`].

/// Element types of torch storages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl Dtype {
    /// The dtype of a legacy typed-storage class such as `torch.FloatStorage`.
    pub fn from_storage_class(name: &str) -> Option<Self> {
        Some(match name {
            "DoubleStorage" => Self::F64,
            "FloatStorage" => Self::F32,
            "HalfStorage" => Self::F16,
            "BFloat16Storage" => Self::BF16,
            "LongStorage" => Self::I64,
            "IntStorage" => Self::I32,
            "ShortStorage" => Self::I16,
            "CharStorage" => Self::I8,
            "ByteStorage" | "UntypedStorage" => Self::U8,
            "BoolStorage" => Self::Bool,
            _ => return None,
        })
    }

    /// The dtype named by a `torch.<dtype>` global (as passed to `_rebuild_tensor_v3`).
    pub fn from_torch_name(name: &str) -> Option<Self> {
        Some(match name {
            "float64" | "double" => Self::F64,
            "float32" | "float" => Self::F32,
            "float16" | "half" => Self::F16,
            "bfloat16" => Self::BF16,
            "int64" | "long" => Self::I64,
            "int32" | "int" => Self::I32,
            "int16" | "short" => Self::I16,
            "int8" => Self::I8,
            "uint8" => Self::U8,
            "bool" => Self::Bool,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Self::F64 | Self::I64 => 8,
            Self::F32 | Self::I32 => 4,
            Self::F16 | Self::BF16 | Self::I16 => 2,
            Self::I8 | Self::U8 | Self::Bool => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F64 => "float64",
            Self::F32 => "float32",
            Self::F16 => "float16",
            Self::BF16 => "bfloat16",
            Self::I64 => "int64",
            Self::I32 => "int32",
            Self::I16 => "int16",
            Self::I8 => "int8",
            Self::U8 => "uint8",
            Self::Bool => "bool",
        }
    }
}

/// A storage record of the archive (`<prefix>/data/<key>`), as named by a persistent id.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageRef {
    pub key: String,
    /// The storage class as written, e.g. `FloatStorage`; kept for messages about unknown ones.
    pub class: String,
    /// `None` when the storage class is not one we know.
    pub dtype: Option<Dtype>,
    /// Where the tensor lived when saved (`cpu`, `cuda:0`); recorded, never used.
    pub location: String,
    /// Element count claimed by the pickle (the archive entry's size is what is trusted).
    pub numel: u64,
}

/// A tensor: a strided view into a storage.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRef {
    pub storage: StorageRef,
    /// First element, counted in elements of the storage.
    pub offset: u64,
    pub shape: Vec<u64>,
    pub stride: Vec<u64>,
}

impl TensorRef {
    /// Number of elements, `None` if the product overflows.
    pub fn numel(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Row-major contiguous: each stride is the product of the later dimensions.
    /// Dimensions of size 1 may carry any stride (torch does not normalise them).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1u64;
        for (&dim, &stride) in self.shape.iter().zip(&self.stride).rev() {
            if dim != 1 && stride != expected {
                return false;
            }
            expected = match expected.checked_mul(dim) {
                Some(e) => e,
                None => return false,
            };
        }
        true
    }

    /// Storage elements `first..end` that the view touches; `None` on overflow. An empty
    /// tensor touches nothing (`first == end`).
    pub fn element_span(&self) -> Option<(u64, u64)> {
        if self.numel()? == 0 {
            return Some((self.offset, self.offset));
        }
        let mut last = self.offset;
        for (&dim, &stride) in self.shape.iter().zip(&self.stride) {
            last = last.checked_add((dim - 1).checked_mul(stride)?)?;
        }
        Some((self.offset, last.checked_add(1)?))
    }

    /// Storage element index of every tensor element, in row-major order, relative to
    /// `base`. Only called for views no larger than their storage.
    pub(crate) fn strided_indices(&self, base: u64) -> Vec<u64> {
        let count = self.numel().unwrap_or(0) as usize;
        let mut out = Vec::with_capacity(count);
        let mut index = vec![0u64; self.shape.len()];
        for _ in 0..count {
            let pos: u64 = index
                .iter()
                .zip(&self.stride)
                .map(|(i, s)| i * s)
                .sum::<u64>()
                + self.offset
                - base;
            out.push(pos);
            // Odometer increment, last dimension fastest.
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < self.shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(shape: &[u64], stride: &[u64], offset: u64) -> TensorRef {
        TensorRef {
            storage: StorageRef {
                key: "0".into(),
                class: "FloatStorage".into(),
                dtype: Some(Dtype::F32),
                location: "cpu".into(),
                numel: 100,
            },
            offset,
            shape: shape.to_vec(),
            stride: stride.to_vec(),
        }
    }

    #[test]
    fn contiguity_and_span() {
        let t = tensor(&[2, 3], &[3, 1], 4);
        assert!(t.is_contiguous());
        assert_eq!(t.element_span(), Some((4, 10)));
        let transposed = tensor(&[3, 2], &[1, 3], 0);
        assert!(!transposed.is_contiguous());
        assert_eq!(transposed.element_span(), Some((0, 6)));
        assert_eq!(transposed.strided_indices(0), vec![0, 3, 1, 4, 2, 5]);
        assert!(tensor(&[1, 4], &[99, 1], 0).is_contiguous());
        assert!(tensor(&[], &[], 7).is_contiguous());
        assert_eq!(tensor(&[], &[], 7).element_span(), Some((7, 8)));
        assert_eq!(tensor(&[0, 5], &[5, 1], 3).element_span(), Some((3, 3)));
        assert_eq!(tensor(&[u64::MAX, 2], &[2, 1], 0).element_span(), None);
    }
}
