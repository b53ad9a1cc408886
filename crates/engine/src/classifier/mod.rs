//! The VirNucPro MLP classifier on libtorch (reference §7):
//! `Linear(in, hidden) -> BatchNorm1d(hidden) (eval) -> ReLU -> Dropout (identity) ->
//! Linear(hidden, 2) -> softmax`, class 0 = `others`, class 1 = `virus`.
//!
//! Weights come from the released whole-module pickles (`torch.save(model)` of
//! `__main__.MLPClassifier`, possibly saved on a GPU), read with the safe pickle reader of
//! `virnucpro_core`: nothing in the file is executed, and tch's own loaders are not used.
mod error;
mod load;
mod scorer;

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use virnucpro_core::pickle::TorchArchive;

pub use error::{ClassifierError, ClassifierProblem};
pub use load::DEFAULT_BN_EPS;
pub use scorer::{ScoreError, Scorer, ShardScores};

/// The class a row is given: core's report label, so both agree on the tie rule.
pub use virnucpro_core::report::Label;

/// Class probabilities of one row and the label they give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub p_others: f32,
    pub p_virus: f32,
    pub label: Label,
}

impl Prediction {
    /// The label is the argmax; a tie goes to class 0 (`others`), as `torch.argmax` does.
    pub fn new(p_others: f32, p_virus: f32) -> Self {
        let label = Label::from_probabilities(p_others, p_virus);
        Self {
            p_others,
            p_virus,
            label,
        }
    }
}

/// A loaded classifier, its parameters resident on one device. `Send`, not `Sync` (as tch
/// tensors are): give each worker its own.
#[derive(Debug)]
pub struct MlpClassifier {
    path: PathBuf,
    device: Device,
    input_dim: usize,
    hidden_dim: usize,
    eps: f64,
    hidden_weight: Tensor,
    hidden_bias: Tensor,
    bn_weight: Tensor,
    bn_bias: Tensor,
    bn_mean: Tensor,
    bn_var: Tensor,
    output_weight: Tensor,
    output_bias: Tensor,
}

impl MlpClassifier {
    /// Load a pickled `MLPClassifier` (`300_model.pth`, `500_model.pth`, ...) onto `device`.
    /// Dimensions come from the checkpoint; each tensor is read as f32 and moved to the
    /// device on its own, so loading needs little more host memory than the largest one.
    /// The shells pass a [`crate::devices::DeviceId`]; the engine's own code a `tch::Device`.
    pub fn load(path: &Path, device: impl Into<Device>) -> Result<Self, ClassifierError> {
        let device: Device = device.into();
        let fail = |problem| ClassifierError::new(path, problem);
        if matches!(device, Device::Cuda(_)) {
            // The CUDA kernels are registered only once libtorch_cuda is loaded.
            crate::Backend::detect();
        }
        let archive = TorchArchive::open(path).map_err(|e| fail(ClassifierProblem::opening(e)))?;
        let root = archive
            .load()
            .map_err(|e| fail(ClassifierProblem::Unreadable(e)))?;
        let layout = load::layout(&root).map_err(fail)?;
        let mut tensors = Vec::with_capacity(layout.tensors.len());
        for (name, tensor_ref) in &layout.tensors {
            let values = archive
                .read_f32(tensor_ref)
                .map_err(|e| fail(ClassifierProblem::Unreadable(e)))?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(fail(ClassifierProblem::NonFiniteWeight(name.to_string())));
            }
            let shape: Vec<i64> = tensor_ref.shape.iter().map(|&d| d as i64).collect();
            let tensor = Tensor::f_from_slice(&values)
                .and_then(|t| t.f_reshape(&shape))
                .and_then(|t| t.f_to(device))
                .map_err(|e| fail(e.into()))?;
            tensors.push(tensor);
        }
        let [hidden_weight, hidden_bias, bn_weight, bn_bias, bn_mean, bn_var, output_weight, output_bias]: [Tensor; 8] =
            tensors.try_into().map_err(|_| {
                fail(ClassifierProblem::MissingKeys(
                    load::PARAMETERS.iter().map(|s| s.to_string()).collect(),
                ))
            })?;
        let to_usize = |d: u64| {
            usize::try_from(d).map_err(|_| {
                fail(ClassifierProblem::BadAttribute {
                    attr: "hidden_layer.weight".into(),
                    detail: format!("dimension {d} is too large"),
                })
            })
        };
        let model = Self {
            path: path.to_path_buf(),
            device,
            input_dim: to_usize(layout.input_dim)?,
            hidden_dim: to_usize(layout.hidden_dim)?,
            eps: layout.eps,
            hidden_weight,
            hidden_bias,
            bn_weight,
            bn_bias,
            bn_mean,
            bn_var,
            output_weight,
            output_bias,
        };
        tracing::info!(
            path = %path.display(),
            input_dim = model.input_dim,
            hidden_dim = model.hidden_dim,
            eps = model.eps,
            ?device,
            "loaded MLP classifier"
        );
        Ok(model)
    }

    /// Move the parameters to `device` (nothing to do when they are there already): the
    /// classifier validation loaded on the CPU then serves on the run's device, without
    /// reading the file again.
    pub fn move_to(&mut self, device: Device) -> Result<(), ClassifierError> {
        if device == self.device {
            return Ok(());
        }
        if matches!(device, Device::Cuda(_)) {
            crate::Backend::detect();
        }
        let path = &self.path;
        for tensor in [
            &mut self.hidden_weight,
            &mut self.hidden_bias,
            &mut self.bn_weight,
            &mut self.bn_bias,
            &mut self.bn_mean,
            &mut self.bn_var,
            &mut self.output_weight,
            &mut self.output_bias,
        ] {
            *tensor = tensor
                .f_to(device)
                .map_err(|e| ClassifierError::new(path, e.into()))?;
        }
        self.device = device;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Features per row the model takes (3328 for the released models).
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    pub fn hidden_dim(&self) -> usize {
        self.hidden_dim
    }

    /// The BatchNorm epsilon in use (from the checkpoint, else [`DEFAULT_BN_EPS`]).
    pub fn eps(&self) -> f64 {
        self.eps
    }

    fn error(&self, problem: ClassifierProblem) -> ClassifierError {
        ClassifierError::new(&self.path, problem)
    }

    /// Raw scores `[N, 2]` (before softmax) of `rows` (`[N, input_dim]`, any float kind,
    /// any device: it is converted to f32 on the model's device).
    pub fn logits(&self, rows: &Tensor) -> Result<Tensor, ClassifierError> {
        let rows = self.checked_input(rows)?;
        self.forward(&rows).map_err(|e| self.error(e.into()))
    }

    /// Class probabilities `[N, 2]` (softmax of the logits, f32, on the model's device).
    pub fn probabilities(&self, rows: &Tensor) -> Result<Tensor, ClassifierError> {
        let rows = self.checked_input(rows)?;
        self.forward(&rows)
            .and_then(|logits| logits.f_softmax(-1, Kind::Float))
            .map_err(|e| self.error(e.into()))
    }

    /// Classify row-major rows of `dim` features each.
    pub fn classify(&self, rows: &[f32], dim: usize) -> Result<Vec<Prediction>, ClassifierError> {
        if dim != self.input_dim {
            return Err(self.error(ClassifierProblem::InputWidth {
                expected: self.input_dim,
                found: dim,
            }));
        }
        if !rows.len().is_multiple_of(dim) {
            return Err(self.error(ClassifierProblem::InputShape(format!(
                "{} values are not a whole number of rows of {dim}",
                rows.len()
            ))));
        }
        if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
            return Err(self.error(ClassifierProblem::NonFiniteInput {
                row: i / dim,
                column: i % dim,
            }));
        }
        let n = rows.len() / dim;
        if n == 0 {
            return Ok(Vec::new());
        }
        let _one_thread = (self.device == Device::Cpu).then(OneCpuThread::enter);
        let probabilities = Tensor::f_from_slice(rows)
            .and_then(|t| t.f_reshape([n as i64, dim as i64]))
            .and_then(|t| t.f_to(self.device))
            .and_then(|t| self.forward(&t))
            .and_then(|logits| logits.f_softmax(-1, Kind::Float))
            .and_then(|p| p.f_to(Device::Cpu))
            .and_then(|p| p.f_contiguous())
            .map_err(|e| self.error(e.into()))?;
        let mut flat = vec![0f32; n * 2];
        probabilities
            .f_copy_data(&mut flat, n * 2)
            .map_err(|e| self.error(e.into()))?;
        Ok(flat
            .chunks_exact(2)
            .map(|p| Prediction::new(p[0], p[1]))
            .collect())
    }

    /// `rows` as f32 `[N, input_dim]` on the model's device, with every value finite.
    fn checked_input(&self, rows: &Tensor) -> Result<Tensor, ClassifierError> {
        let size = rows.size();
        let [_, width] = size[..] else {
            return Err(self.error(ClassifierProblem::InputShape(format!(
                "a tensor of shape {size:?}, expected [N, {}]",
                self.input_dim
            ))));
        };
        if usize::try_from(width).ok() != Some(self.input_dim) {
            return Err(self.error(ClassifierProblem::InputWidth {
                expected: self.input_dim,
                found: usize::try_from(width).unwrap_or(0),
            }));
        }
        let torch = |e: tch::TchError| self.error(e.into());
        let rows = rows
            .f_to(self.device)
            .and_then(|t| t.f_to_kind(Kind::Float))
            .map_err(torch)?;
        // Indices of the non-finite values; empty in the normal case.
        let bad = rows
            .f_isfinite()
            .and_then(|t| t.f_logical_not())
            .and_then(|t| t.f_nonzero())
            .and_then(|t| t.f_to(Device::Cpu))
            .map_err(torch)?;
        if bad.size().first().copied().unwrap_or(0) > 0 {
            let mut first = [0i64; 2];
            bad.f_copy_data(&mut first, 2).map_err(torch)?;
            return Err(self.error(ClassifierProblem::NonFiniteInput {
                row: first[0] as usize,
                column: first[1] as usize,
            }));
        }
        Ok(rows)
    }

    /// Logits of checked rows, in eval mode and without autograd.
    fn forward(&self, rows: &Tensor) -> Result<Tensor, tch::TchError> {
        tch::no_grad(|| {
            let hidden = rows
                .f_linear(&self.hidden_weight, Some(&self.hidden_bias))?
                .f_batch_norm(
                    Some(&self.bn_weight),
                    Some(&self.bn_bias),
                    Some(&self.bn_mean),
                    Some(&self.bn_var),
                    false,
                    0.0,
                    self.eps,
                    true,
                )?
                .f_relu()?;
            // Dropout is the identity in eval mode.
            hidden.f_linear(&self.output_weight, Some(&self.output_bias))
        })
    }
}

/// libtorch's CPU matrix product splits a small product (a shard's last few rows) over its
/// threads in a way that changes the rounding, so a score's last digit would depend on the
/// core count or a cluster job's thread limit (`OMP_NUM_THREADS`). The MLP is small next
/// to the embedders: on one thread its scores are the same on every machine. The previous
/// thread count comes back when this is dropped.
struct OneCpuThread {
    previous: i32,
}

impl OneCpuThread {
    fn enter() -> Self {
        let previous = tch::get_num_threads();
        tch::set_num_threads(1);
        Self { previous }
    }
}

impl Drop for OneCpuThread {
    fn drop(&mut self) {
        tch::set_num_threads(self.previous);
    }
}
