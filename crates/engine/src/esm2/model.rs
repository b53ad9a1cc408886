//! The ESM-2 encoder: token embedding with the token-dropout rescale, the transformer
//! layers, and the final layer norm; plus VirNucPro's mean-pooled protein embedding.
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use super::alphabet::Alphabet;
use super::config::{self, Esm2Config};
use super::error::{Esm2Error, Esm2Problem};
use super::keys::{self, Layout};
use super::layer::{layer_norm, Layer};
use crate::layers::LayerNorm;
use crate::weights::Checkpoint;

/// VirNucPro averages the representation over at most this many leading residues; the model
/// itself still sees the whole sequence.
pub const VIRNUCPRO_MAX_RESIDUES: usize = 1024;

/// The masking rate ESM-2 was trained with (15 % of tokens, 80 % of those as `<mask>`);
/// with token dropout, embeddings are rescaled as if that many had been zeroed.
const MASK_RATIO_TRAIN: f64 = 0.15 * 0.8;

/// A loaded ESM-2 model, resident on one device. `Send`, not `Sync` (as tch tensors are).
#[derive(Debug)]
pub struct Esm2 {
    path: PathBuf,
    config: Esm2Config,
    kind: Kind,
    device: Device,
    embed_tokens: Tensor,
    layers: Vec<Layer>,
    final_norm: LayerNorm,
}

impl Esm2 {
    /// Load an ESM-2 model of any size from a Hugging Face folder (`config.json` +
    /// `model.safetensors`, sharded safetensors or `pytorch_model.bin`), an HF weight file,
    /// or a fair-esm `.pt`, to run in `kind` on `device`. The dimensions come from the
    /// tensors and are checked against the declared configuration; every key is checked
    /// before any tensor data is read.
    pub fn load(path: &Path, kind: Kind, device: Device) -> Result<Self, Esm2Error> {
        let fail = |problem: Esm2Problem| Esm2Error::new(path, problem);
        if !matches!(
            kind,
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
        ) {
            return Err(fail(Esm2Problem::UnsupportedKind(kind)));
        }
        if matches!(device, Device::Cuda(_)) {
            // The CUDA kernels are registered only once libtorch_cuda is loaded.
            crate::Backend::detect();
        }
        let Inspected {
            checkpoint,
            layout,
            config,
        } = inspect(path)?;

        let _no_grad = tch::no_grad_guard();
        let weights = |e: crate::weights::WeightError| fail(e.into());
        let embed_tokens = checkpoint
            .load(layout.embed_tokens(), kind, device)
            .map_err(weights)?;
        let layers = (0..config.num_layers)
            .map(|i| Layer::load(&checkpoint, layout, i, &config, kind, device))
            .collect::<Result<Vec<_>, _>>()
            .map_err(weights)?;
        let final_norm = LayerNorm::load(
            &checkpoint,
            layout.final_norm(),
            config.layer_norm_eps,
            kind,
            device,
        )
        .map_err(weights)?;
        tracing::info!(
            path = %path.display(),
            layout = ?layout,
            layers = config.num_layers,
            hidden = config.hidden,
            heads = config.heads,
            kind = ?kind,
            device = ?device,
            "ESM-2 loaded"
        );
        Ok(Self {
            path: path.to_path_buf(),
            config,
            kind,
            device,
            embed_tokens,
            layers,
            final_norm,
        })
    }

    /// Check, from the headers alone (no tensor data is read), that `path` holds an ESM-2
    /// model that [`Esm2::load`] would load: its layout, every key and shape, and the
    /// declared configuration. A model of another kind (a DNABERT-S folder) is named.
    pub fn check(path: &Path) -> Result<Esm2Config, Esm2Error> {
        inspect(path).map(|found| found.config)
    }

    pub fn config(&self) -> &Esm2Config {
        &self.config
    }

    pub fn hidden_size(&self) -> usize {
        self.config.hidden as usize
    }

    pub fn num_layers(&self) -> usize {
        self.config.num_layers
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every parameter under its fair-esm name (`embed_tokens.weight`,
    /// `layers.0.self_attn.q_proj.weight`, ...), whatever layout it was loaded from: for
    /// comparing checkpoints and for accounting device memory.
    pub fn parameters(&self) -> Vec<(String, Tensor)> {
        let layout = Layout::FairEsm;
        let mut out = vec![(
            layout.embed_tokens().to_string(),
            self.embed_tokens.shallow_clone(),
        )];
        for (i, layer) in self.layers.iter().enumerate() {
            out.extend(layer.parameters(layout, i));
        }
        let norm = layout.final_norm();
        out.push((
            format!("{norm}.weight"),
            self.final_norm.weight.shallow_clone(),
        ));
        out.push((format!("{norm}.bias"), self.final_norm.bias.shallow_clone()));
        out
    }

    /// fair-esm's `representations` for every layer: entry 0 is the (rescaled) token
    /// embedding, entry `l` the output of layer `l`, and the last entry the output of the
    /// last layer after the final layer norm. `tokens` is `[B, T]` int64, rows right-padded
    /// with [`Alphabet::PAD`]. Each entry is `[B, T, hidden]` in the model's kind, on its
    /// device.
    pub fn representations(&self, tokens: &Tensor) -> Result<Vec<Tensor>, Esm2Error> {
        let mut all = Vec::with_capacity(self.config.num_layers + 1);
        // The returned tensor is also the last entry of `all`.
        let _last = self
            .forward(tokens, Some(&mut all))
            .map_err(|p| Esm2Error::new(&self.path, p))?;
        Ok(all)
    }

    /// The representation after the final layer norm, `[B, T, hidden]` (HF's
    /// `last_hidden_state`).
    pub fn last_hidden_state(&self, tokens: &Tensor) -> Result<Tensor, Esm2Error> {
        self.forward(tokens, None)
            .map_err(|p| Esm2Error::new(&self.path, p))
    }

    /// VirNucPro's protein embedding, `[B, hidden]` f32 on the model's device: per row, the
    /// mean of the last representation over positions `1 ..= min(1024, lengths[row])`
    /// (after `<cls>`).
    ///
    /// `lengths[row]` is the length VirNucPro counted, `len()` of the sequence text: the
    /// residue count for plain sequences. Text holding a special token such as `<mask>` is
    /// longer than its token count, and the original then also averaged `<eos>`; the span is
    /// cut at the row's own last token (`<eos>`), as a single unpadded sequence was, so that
    /// padding never enters a mean. A span of zero positions is refused.
    pub fn embed(&self, tokens: &Tensor, lengths: &[usize]) -> Result<Tensor, Esm2Error> {
        let fail = |problem: Esm2Problem| Esm2Error::new(&self.path, problem);
        let last = self.last_hidden_state(tokens)?;
        let rows = last.size().first().copied().unwrap_or(0);
        if lengths.len() as i64 != rows {
            return Err(fail(Esm2Problem::Input(format!(
                "{} lengths given for {rows} token rows",
                lengths.len()
            ))));
        }
        let pooled = || -> Result<Tensor, Esm2Problem> {
            let row_tokens = Vec::<i64>::try_from(
                tokens
                    .f_ne(Alphabet::PAD)?
                    .f_sum_dim_intlist(-1, false, Kind::Int64)?
                    .f_to_device(Device::Cpu)?,
            )?;
            let mut means = Vec::with_capacity(lengths.len());
            for (row, (&length, &tokens_in_row)) in lengths.iter().zip(&row_tokens).enumerate() {
                let span = (length.min(VIRNUCPRO_MAX_RESIDUES) as i64).min(tokens_in_row - 1);
                if span <= 0 {
                    return Err(Esm2Problem::Input(format!(
                        "row {row} has no residues to average (length {length})"
                    )));
                }
                means.push(
                    last.f_select(0, row as i64)?
                        .f_narrow(0, 1, span)?
                        .f_to_kind(Kind::Float)?
                        .f_mean_dim(0i64, false, None::<Kind>)?,
                );
            }
            Ok(Tensor::f_stack(&means, 0)?)
        };
        pooled().map_err(fail)
    }

    /// The encoder; when `all` is given, every intermediate representation is pushed to it.
    fn forward(
        &self,
        tokens: &Tensor,
        mut all: Option<&mut Vec<Tensor>>,
    ) -> Result<Tensor, Esm2Problem> {
        let _no_grad = tch::no_grad_guard();
        let tokens = self.check_tokens(tokens)?;
        let padding = tokens.f_eq(Alphabet::PAD)?;
        let mut x = Tensor::f_embedding(&self.embed_tokens, &tokens, Alphabet::PAD, false, false)?;
        if self.config.token_dropout {
            x = self.token_dropout_rescale(&x, &tokens, &padding)?;
        }
        // Padded positions start from zero (they are never attended to).
        let keep = padding.f_logical_not()?;
        x = x.f_mul(&keep.f_unsqueeze(-1)?.f_to_kind(x.kind())?)?;
        if let Some(all) = all.as_deref_mut() {
            all.push(x.shallow_clone());
        }
        // The layers run time-major, `[T, B, hidden]`, as fair-esm's do (`x.transpose(0, 1)`):
        // every Linear, bmm and copy then sees the shapes and strides the reference gives
        // libtorch, so the same kernels round the same way.
        let mut x = x.f_transpose(0, 1)?;
        // fair-esm passes no mask at all when nothing is padded.
        let key_padding = if bool::try_from(padding.f_any()?)? {
            Some(padding)
        } else {
            None
        };
        for layer in &self.layers {
            x = layer.forward(&x, key_padding.as_ref())?;
            if let Some(all) = all.as_deref_mut() {
                all.push(x.f_transpose(0, 1)?);
            }
        }
        let x = layer_norm(&self.final_norm, &x)?.f_transpose(0, 1)?;
        if let Some(all) = all {
            // The last representation is the normed one, as in fair-esm.
            if let Some(last) = all.last_mut() {
                *last = x.shallow_clone();
            }
        }
        Ok(x)
    }

    /// fair-esm's token dropout at inference: `<mask>` embeddings are zeroed and every
    /// embedding is scaled by `(1 - 0.15 * 0.8) / (1 - observed mask ratio of the row)`,
    /// i.e. by 0.88 when a row has no `<mask>`.
    fn token_dropout_rescale(
        &self,
        x: &Tensor,
        tokens: &Tensor,
        padding: &Tensor,
    ) -> Result<Tensor, Esm2Problem> {
        let is_mask = tokens.f_eq(Alphabet::MASK)?;
        let x = x.f_masked_fill(&is_mask.f_unsqueeze(-1)?, 0.0)?;
        let src_lengths = padding
            .f_logical_not()?
            .f_sum_dim_intlist(-1, false, None::<Kind>)?;
        let observed = is_mask
            .f_sum_dim_intlist(-1, false, None::<Kind>)?
            .f_to_kind(x.kind())?
            .f_div(&src_lengths)?;
        let denominator = observed.f_neg()?.f_add_scalar(1.0)?.f_view([-1, 1, 1])?;
        Ok(x.f_mul_scalar(1.0 - MASK_RATIO_TRAIN)?
            .f_div(&denominator)?)
    }

    /// `tokens` as the model needs them: `[B, T]` int64 ids of the alphabet with at least one
    /// non-padding token per row, on the model's device. Checked here because an
    /// out-of-range id would abort a CUDA context rather than fail.
    fn check_tokens(&self, tokens: &Tensor) -> Result<Tensor, Esm2Problem> {
        let bad = |s: String| Esm2Problem::Input(s);
        let size = tokens.size();
        if size.len() != 2 || size[0] == 0 || size[1] == 0 {
            return Err(bad(format!(
                "tokens must be a non-empty [batch, length] tensor, got shape {size:?}"
            )));
        }
        if tokens.kind() != Kind::Int64 {
            return Err(bad(format!(
                "tokens must be int64, got {:?}",
                tokens.kind()
            )));
        }
        let (min, max) = (
            tokens.f_min()?.f_int64_value(&[])?,
            tokens.f_max()?.f_int64_value(&[])?,
        );
        if min < 0 || max >= Alphabet::SIZE as i64 {
            return Err(bad(format!(
                "token ids must lie in 0..{}, found {min}..={max}",
                Alphabet::SIZE
            )));
        }
        let real = tokens
            .f_ne(Alphabet::PAD)?
            .f_sum_dim_intlist(-1, false, Kind::Int64)?
            .f_min()?
            .f_int64_value(&[])?;
        if real == 0 {
            return Err(bad("a token row holds only padding".into()));
        }
        Ok(tokens.f_to_device(self.device)?)
    }
}

/// What the headers say: the encoder's keys (prefix removed), their layout and the
/// configuration they fit.
struct Inspected {
    checkpoint: Checkpoint,
    layout: Layout,
    config: Esm2Config,
}

fn inspect(path: &Path) -> Result<Inspected, Esm2Error> {
    let fail = |problem: Esm2Problem| Esm2Error::new(path, problem);
    let checkpoint = Checkpoint::open(path).map_err(|e| fail(e.into()))?;
    let (layout, prefix) = match keys::detect(&checkpoint.names()) {
        Ok(found) => found,
        Err(detail) => {
            // A model folder of another kind says what it is in its config.json.
            config::declared(path, Layout::HuggingFace, None).map_err(fail)?;
            return Err(fail(Esm2Problem::WrongArchitecture(detail)));
        }
    };
    let declared = config::declared(path, layout, checkpoint.pickle_root()).map_err(fail)?;
    if declared.is_none() {
        tracing::warn!(
            path = %path.display(),
            "no ESM-2 configuration beside the weights; assuming layer norm eps 1e-5 and token dropout, as in fair-esm"
        );
    }
    let checkpoint = checkpoint.with_prefix(&prefix);
    let config = config::resolve(&checkpoint, layout, declared.as_ref()).map_err(fail)?;
    checkpoint
        .check_keys(&config.expected_tensors(layout), &|name| {
            layout.ignored(name)
        })
        .map_err(|e| fail(e.into()))?;
    Ok(Inspected {
        checkpoint,
        layout,
        config,
    })
}
