//! The ESM-2 encoder: token embedding with the token-dropout rescale, the transformer
//! layers, and the final layer norm; plus VirNucPro's mean-pooled protein embedding.
use std::cell::RefCell;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, TchError, Tensor};

use super::alphabet::Alphabet;
use super::config::{self, Esm2Config};
use super::error::{Esm2Error, Esm2Problem};
use super::keys::{self, Layout};
use super::layer::{layer_norm, rotary_tables, Layer, Step};
use crate::layers::{FastPath, LayerNorm};
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
    /// The switches in force (none in f32).
    fast: FastPath,
    /// Whether every layer holds the same rotary frequencies (the released checkpoints
    /// do), so that one table serves them all.
    shared_inv_freq: bool,
    /// `(cos, sin)` for the longest batch yet, with [`FastPath::position_cache`]: a row of
    /// the table depends on its position only, so a shorter batch takes the leading rows.
    rotary: RefCell<Option<(Tensor, Tensor)>>,
}

/// What the encoder proper hands the pooling besides the last representation.
struct Forward {
    last: Tensor,
    /// The token ids on the model's device.
    tokens: Tensor,
    /// The fewest non-padding tokens of a row, when the checks read it ([`FastPath::pool`]).
    min_real: Option<i64>,
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
        let shared_inv_freq = layers
            .split_first()
            .is_some_and(|(first, rest)| rest.iter().all(|l| l.inv_freq().equal(first.inv_freq())));
        let fast = FastPath::for_kind(kind);
        tracing::info!(
            path = %path.display(),
            layout = ?layout,
            layers = config.num_layers,
            hidden = config.hidden,
            heads = config.heads,
            kind = ?kind,
            device = ?device,
            fast_path = %fast,
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
            fast,
            shared_inv_freq,
            rotary: RefCell::new(None),
        })
    }

    /// The fast-path switches in force ([`FastPath::for_kind`] after loading).
    pub fn fast_path(&self) -> FastPath {
        self.fast
    }

    /// Choose the fast-path switches (for measuring them one by one); in f32 none applies
    /// ([`FastPath::effective`]).
    pub fn set_fast_path(&mut self, fast: FastPath) {
        self.fast = fast.effective(self.kind);
        tracing::debug!(fast_path = %self.fast, "ESM-2 fast path");
    }

    /// Tests only: the switches exactly as given, in any kind. f32 with `packed` forced on
    /// shows that packing computes the padded path's values, free of half rounding.
    #[cfg(test)]
    pub(crate) fn force_fast_path(&mut self, fast: FastPath) {
        self.fast = fast;
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
            .map(|forward| forward.last)
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
        if self.fast.packed {
            // `None`: a batch that is not right-padded, which the padded path below handles.
            if let Some(pooled) = self.embed_packed(tokens, lengths).map_err(fail)? {
                return Ok(pooled);
            }
        }
        // Uploaded before the forward is queued, so that the copy waits for nothing.
        let caps = if self.fast.pool {
            let caps: Vec<i64> = lengths
                .iter()
                .map(|&l| l.min(VIRNUCPRO_MAX_RESIDUES) as i64)
                .collect();
            let upload = || Tensor::f_from_slice(&caps)?.f_to_device(self.device);
            Some(upload().map_err(|e| fail(e.into()))?)
        } else {
            None
        };
        let forward = self.forward(tokens, None).map_err(fail)?;
        let rows = forward.last.size().first().copied().unwrap_or(0);
        check_lengths(lengths.len(), rows).map_err(fail)?;
        // Every span is at least one position when every length is and every row has a
        // residue or `<eos>` after `<cls>`; otherwise the row by row path names the row.
        let spans_known = forward.min_real.is_some_and(|real| real >= 2)
            && lengths.iter().all(|&length| length > 0);
        match caps {
            Some(caps) if spans_known => masked_mean(&forward, &caps).map_err(|e| fail(e.into())),
            _ => pool_rows(&forward.last, tokens, lengths).map_err(fail),
        }
    }

    /// The encoder; when `all` is given, every intermediate representation is pushed to it.
    fn forward(
        &self,
        tokens: &Tensor,
        mut all: Option<&mut Vec<Tensor>>,
    ) -> Result<Forward, Esm2Problem> {
        let _no_grad = tch::no_grad_guard();
        let (tokens, read) = if self.fast.pool {
            let (tokens, read) = self.check_tokens_once(tokens)?;
            (tokens, Some(read))
        } else {
            (self.check_tokens(tokens)?, None)
        };
        let padding = tokens.f_eq(Alphabet::PAD)?;
        let x = self.embedded(&tokens, &padding)?;
        if let Some(all) = all.as_deref_mut() {
            all.push(x.shallow_clone());
        }
        // The layers run time-major, `[T, B, hidden]`, as fair-esm's do (`x.transpose(0, 1)`):
        // every Linear, bmm and copy then sees the shapes and strides the reference gives
        // libtorch, so the same kernels round the same way.
        let mut x = x.f_transpose(0, 1)?;
        // fair-esm passes no mask at all when nothing is padded.
        let padded = match read {
            Some(read) => read.padded,
            None => bool::try_from(padding.f_any()?)?,
        };
        let key_padding = padded.then_some(padding);
        let rotary = self.rotary_for(x.size().first().copied().unwrap_or(0))?;
        let step = Step {
            fast: self.fast,
            rotary: rotary.as_ref(),
        };
        for layer in &self.layers {
            x = layer.forward(&x, key_padding.as_ref(), &step)?;
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
        Ok(Forward {
            last: x,
            tokens,
            min_real: read.map(|read| read.min_real),
        })
    }

    /// The token embedding the first layer sees, `[B, T, hidden]`: token dropout's rescale
    /// applied, padded positions zero. `tokens` are on the model's device; `padding` is
    /// `tokens == <pad>`.
    pub(super) fn embedded(
        &self,
        tokens: &Tensor,
        padding: &Tensor,
    ) -> Result<Tensor, Esm2Problem> {
        let mut x = Tensor::f_embedding(&self.embed_tokens, tokens, Alphabet::PAD, false, false)?;
        if self.config.token_dropout {
            x = self.token_dropout_rescale(&x, tokens, padding)?;
        }
        // Padded positions start from zero (they are never attended to).
        let keep = padding.f_logical_not()?;
        Ok(x.f_mul(&keep.f_unsqueeze(-1)?.f_to_kind(x.kind())?)?)
    }

    /// The layers, in order (for the packed forward).
    pub(super) fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layer norm after the last layer (for the packed forward).
    pub(super) fn final_norm(&self) -> &LayerNorm {
        &self.final_norm
    }

    /// The rotary tables every layer of a `len`-token batch shares, with
    /// [`FastPath::position_cache`] and one set of frequencies; kept for the next batch of
    /// the same length. `None`: each layer builds its own, as fair-esm does.
    pub(super) fn rotary_for(&self, len: i64) -> Result<Option<(Tensor, Tensor)>, TchError> {
        let first = match self.layers.first() {
            Some(first) if self.fast.position_cache && self.shared_inv_freq => first,
            _ => return Ok(None),
        };
        let Ok(mut cache) = self.rotary.try_borrow_mut() else {
            return Ok(None);
        };
        let fits = cache
            .as_ref()
            .is_some_and(|(cos, _)| cos.size().first() == Some(&len));
        if !fits {
            *cache = Some(rotary_tables(first.inv_freq(), len)?);
        }
        Ok(cache
            .as_ref()
            .map(|(cos, sin)| (cos.shallow_clone(), sin.shallow_clone())))
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
        check_shape(tokens)?;
        let (min, max) = (
            tokens.f_min()?.f_int64_value(&[])?,
            tokens.f_max()?.f_int64_value(&[])?,
        );
        check_range(min, max)?;
        let real = tokens
            .f_ne(Alphabet::PAD)?
            .f_sum_dim_intlist(-1, false, Kind::Int64)?
            .f_min()?
            .f_int64_value(&[])?;
        check_real(real)?;
        Ok(tokens.f_to_device(self.device)?)
    }

    /// [`Esm2::check_tokens`] reading the device once instead of three times, and telling
    /// besides whether any row is padded and the fewest real tokens of a row.
    fn check_tokens_once(&self, tokens: &Tensor) -> Result<(Tensor, TokenRead), Esm2Problem> {
        check_shape(tokens)?;
        let real = tokens
            .f_ne(Alphabet::PAD)?
            .f_sum_dim_intlist(-1, false, Kind::Int64)?;
        let read = Tensor::f_stack(&[tokens.f_min()?, tokens.f_max()?, real.f_min()?], 0)?
            .f_to_device(Device::Cpu)?;
        let (min, max, min_real) = match Vec::<i64>::try_from(&read)?[..] {
            [min, max, min_real] => (min, max, min_real),
            _ => return Err(Esm2Problem::Input("token statistics unreadable".into())),
        };
        check_range(min, max)?;
        check_real(min_real)?;
        // A row with fewer real tokens than the width holds padding (right-padded or not).
        let width = tokens.size().get(1).copied().unwrap_or(0);
        let read = TokenRead {
            padded: min_real < width,
            min_real,
        };
        Ok((tokens.f_to_device(self.device)?, read))
    }
}

/// What [`Esm2::check_tokens_once`] learnt from its one read.
#[derive(Clone, Copy)]
struct TokenRead {
    padded: bool,
    min_real: i64,
}

pub(super) fn check_shape(tokens: &Tensor) -> Result<(), Esm2Problem> {
    let size = tokens.size();
    if size.len() != 2 || size[0] == 0 || size[1] == 0 {
        return Err(Esm2Problem::Input(format!(
            "tokens must be a non-empty [batch, length] tensor, got shape {size:?}"
        )));
    }
    if tokens.kind() != Kind::Int64 {
        return Err(Esm2Problem::Input(format!(
            "tokens must be int64, got {:?}",
            tokens.kind()
        )));
    }
    Ok(())
}

pub(super) fn check_range(min: i64, max: i64) -> Result<(), Esm2Problem> {
    if min < 0 || max >= Alphabet::SIZE as i64 {
        return Err(Esm2Problem::Input(format!(
            "token ids must lie in 0..{}, found {min}..={max}",
            Alphabet::SIZE
        )));
    }
    Ok(())
}

pub(super) fn check_real(fewest_real_tokens: i64) -> Result<(), Esm2Problem> {
    if fewest_real_tokens == 0 {
        return Err(Esm2Problem::Input("a token row holds only padding".into()));
    }
    Ok(())
}

/// `lengths` must give one length per token row.
pub(super) fn check_lengths(given: usize, rows: i64) -> Result<(), Esm2Problem> {
    if given as i64 != rows {
        return Err(Esm2Problem::Input(format!(
            "{given} lengths given for {rows} token rows"
        )));
    }
    Ok(())
}

/// How many positions after `<cls>` the VirNucPro mean of a row takes: its `length` capped
/// at 1024, cut at its own last token (`<eos>`); `tokens_in_row` counts `<cls>` and `<eos>`.
/// A row with nothing to average is refused, naming it.
pub(super) fn row_span(row: usize, length: usize, tokens_in_row: i64) -> Result<i64, Esm2Problem> {
    let span = (length.min(VIRNUCPRO_MAX_RESIDUES) as i64).min(tokens_in_row - 1);
    if span <= 0 {
        return Err(Esm2Problem::Input(format!(
            "row {row} has no residues to average (length {length})"
        )));
    }
    Ok(span)
}

/// The VirNucPro mean row by row, as the reference slices it: each row's span is read
/// back to the host, then averaged in f32.
fn pool_rows(last: &Tensor, tokens: &Tensor, lengths: &[usize]) -> Result<Tensor, Esm2Problem> {
    let row_tokens = Vec::<i64>::try_from(
        tokens
            .f_ne(Alphabet::PAD)?
            .f_sum_dim_intlist(-1, false, Kind::Int64)?
            .f_to_device(Device::Cpu)?,
    )?;
    let mut means = Vec::with_capacity(lengths.len());
    for (row, (&length, &tokens_in_row)) in lengths.iter().zip(&row_tokens).enumerate() {
        let span = row_span(row, length, tokens_in_row)?;
        means.push(
            last.f_select(0, row as i64)?
                .f_narrow(0, 1, span)?
                .f_to_kind(Kind::Float)?
                .f_mean_dim(0i64, false, None::<Kind>)?,
        );
    }
    Ok(Tensor::f_stack(&means, 0)?)
}

/// The VirNucPro mean with [`FastPath::pool`]: the same spans, `1 ..= min(cap, real - 1)`
/// per row, as a mask built on the device, and one sum over the batch accumulated in f32;
/// nothing is read back. `caps` holds `min(1024, length)` per row, on the device.
fn masked_mean(forward: &Forward, caps: &Tensor) -> Result<Tensor, TchError> {
    let (last, tokens) = (&forward.last, &forward.tokens);
    let width = tokens.size().get(1).copied().unwrap_or(0);
    let real = tokens
        .f_ne(Alphabet::PAD)?
        .f_sum_dim_intlist(-1, false, Kind::Int64)?;
    let spans = caps.f_minimum(&real.f_sub_scalar(1)?)?.f_unsqueeze(1)?;
    let positions = Tensor::f_arange(width, (Kind::Int64, tokens.device()))?.f_unsqueeze(0)?;
    let outside = positions
        .f_lt(1)?
        .f_logical_or(&positions.f_gt_tensor(&spans)?)?;
    last.f_masked_fill(&outside.f_unsqueeze(-1)?, 0.0)?
        .f_sum_dim_intlist(1, false, Kind::Float)?
        .f_div(&spans.f_to_kind(Kind::Float)?)
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
