//! The DNABERT-S encoder: loading a model folder or file, and the forward pass.
use std::cell::RefCell;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::layers::FastPath;
use crate::weights::Checkpoint;

use super::alibi;
use super::config::DnaBertConfig;
use super::error::DnaBertError;
use super::layer::{Embeddings, EncoderLayer};
use super::layout::{self, Shape};
use super::tokenizer::DnaTokenizer;

/// The additive attention bias of padded keys, as in the reference (not -inf: a row whose
/// keys were all padding would otherwise turn into NaN).
const PAD_BIAS: f64 = -10000.0;

pub struct DnaBertS {
    embeddings: Embeddings,
    layers: Vec<EncoderLayer>,
    slopes: Vec<f32>,
    tokenizer: DnaTokenizer,
    shape: Shape,
    kind: Kind,
    device: Device,
    /// The switches in force (none in f32).
    fast: FastPath,
    /// The f32 ALiBi table of the last batch length, with [`FastPath::position_cache`].
    alibi: RefCell<Option<Tensor>>,
}

impl std::fmt::Debug for DnaBertS {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnaBertS")
            .field("shape", &self.shape)
            .field("heads", &self.slopes.len())
            .field("kind", &self.kind)
            .field("device", &self.device)
            .field("fast", &self.fast)
            .finish_non_exhaustive()
    }
}

impl DnaBertS {
    /// Loads a model from a Hugging Face folder (config.json, tokenizer.json and
    /// model.safetensors / sharded safetensors / pytorch_model.bin), or from a weights
    /// file with config.json and tokenizer.json beside it. `BertModel` keys and
    /// `bert.`-prefixed `BertForMaskedLM` keys are both accepted.
    pub fn load(path: &Path, kind: Kind, device: Device) -> Result<Self, DnaBertError> {
        let Inspected {
            config,
            tokenizer,
            ckpt,
            shape,
        } = inspect(path)?;

        let eps = config.layer_norm_eps;
        let heads = config.num_attention_heads;
        let embeddings = Embeddings::load(&ckpt, eps, kind, device)?;
        let layers = (0..shape.layers)
            .map(|l| EncoderLayer::load(&ckpt, l, heads, shape.intermediate, eps, kind, device))
            .collect::<Result<Vec<_>, _>>()?;
        tracing::info!(
            weights = %layout::weights_file(&ckpt).display(),
            hidden = shape.hidden,
            layers = shape.layers,
            heads,
            ?kind,
            ?device,
            fast_path = %FastPath::for_kind(kind),
            "loaded DNABERT-S"
        );
        Ok(Self {
            embeddings,
            layers,
            slopes: alibi::slopes(heads),
            tokenizer,
            shape,
            kind,
            device,
            fast: FastPath::for_kind(kind),
            alibi: RefCell::new(None),
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
        tracing::debug!(fast_path = %self.fast, "DNABERT-S fast path");
    }

    /// Check, from the headers alone (no tensor data is read), that `path` holds a
    /// DNABERT-S model that [`DnaBertS::load`] would load: config.json, tokenizer.json,
    /// every key and shape. A model of another kind (an ESM-2 folder) is named. Returns the
    /// tokenizer it builds on the way.
    pub fn check(path: &Path) -> Result<(DnaTokenizer, i64), DnaBertError> {
        inspect(path).map(|found| (found.tokenizer, found.shape.hidden))
    }

    pub fn hidden_size(&self) -> i64 {
        self.shape.hidden
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    pub fn tokenizer(&self) -> &DnaTokenizer {
        &self.tokenizer
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The embedding output, then every layer's output, each `[B, T, H]` in the model's
    /// kind. `ids` and `mask` are `[B, T]` (right padding, mask 1 for real tokens).
    /// Padded rows of the layer outputs are exactly 0, as the reference's repadding leaves
    /// them.
    ///
    /// Panics if the tensors are not `[B, T]` or ids are outside the vocabulary; ids from
    /// [`DnaTokenizer`] always fit (checked at load).
    pub fn forward_layers(&self, ids: &Tensor, mask: &Tensor) -> Vec<Tensor> {
        let _no_grad = tch::no_grad_guard();
        let ids = ids.to_device(self.device);
        let mask = mask.to_device(self.device);
        let is_pad = mask.eq(0).unsqueeze(-1);
        let bias = self.attention_bias(&mask);

        let mut hidden = self.embeddings.forward(&ids);
        let mut outputs = Vec::with_capacity(self.layers.len() + 1);
        outputs.push(hidden.shallow_clone());
        for layer in &self.layers {
            hidden = layer.forward(&hidden, &bias, self.fast);
            if self.fast.in_place {
                let _ = hidden.masked_fill_(&is_pad, 0.0);
            } else {
                hidden = hidden.masked_fill(&is_pad, 0.0);
            }
            outputs.push(hidden.shallow_clone());
        }
        outputs
    }

    /// The last layer's output, `[B, T, H]` in the model's kind.
    pub fn last_hidden_state(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let mut outputs = self.forward_layers(ids, mask);
        match outputs.pop() {
            Some(last) => last,
            // Unreachable: forward_layers always returns the embedding output.
            None => Tensor::zeros([0], (self.kind, self.device)),
        }
    }

    /// VirNucPro's DNABERT-S embedding: the mean of the last hidden state over every real
    /// token, [CLS] and [SEP] included, `[B, H]` in f32.
    pub fn embed(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let _no_grad = tch::no_grad_guard();
        let hidden = self.last_hidden_state(ids, mask).to_kind(Kind::Float);
        let weights = mask
            .to_device(self.device)
            .to_kind(Kind::Float)
            .unsqueeze(-1);
        let sum = (hidden * &weights).sum_dim_intlist([1].as_slice(), false, Kind::Float);
        sum / weights.sum_dim_intlist([1].as_slice(), false, Kind::Float)
    }

    /// Tokenizes, pads and embeds sequences: `[B, H]` f32, one row per sequence in order.
    pub fn embed_sequences(&self, sequences: &[&str]) -> Result<Tensor, DnaBertError> {
        if sequences.is_empty() {
            return Ok(Tensor::zeros(
                [0, self.shape.hidden],
                (Kind::Float, self.device),
            ));
        }
        let (ids, mask) = self.tokenizer.batch(sequences)?;
        Ok(self.embed(&ids, &mask))
    }

    /// ALiBi plus the padding bias, `[B, heads, T, T]` in the model's kind. Summed in f32
    /// as the reference does (it adds the f32 padding mask to the f32 ALiBi table).
    fn attention_bias(&self, mask: &Tensor) -> Tensor {
        let len = mask.size().get(1).copied().unwrap_or(0);
        let padding = mask.eq(0).to_kind(Kind::Float) * PAD_BIAS;
        let padding = padding.unsqueeze(1).unsqueeze(1);
        (padding + self.alibi_table(len)).to_kind(self.kind)
    }

    /// `alibi::bias` for `len` positions; with [`FastPath::position_cache`] kept for the
    /// next batch of the same length (the same tensor, so the same values).
    fn alibi_table(&self, len: i64) -> Tensor {
        let cache = self
            .fast
            .position_cache
            .then(|| self.alibi.try_borrow_mut().ok())
            .flatten();
        let Some(mut cache) = cache else {
            return alibi::bias(&self.slopes, len, self.device);
        };
        match cache.as_ref() {
            Some(table) if table.size().get(2) == Some(&len) => table.shallow_clone(),
            _ => {
                let table = alibi::bias(&self.slopes, len, self.device);
                *cache = Some(table.shallow_clone());
                table
            }
        }
    }
}

/// What the files say before any weights are read.
struct Inspected {
    config: DnaBertConfig,
    tokenizer: DnaTokenizer,
    ckpt: Checkpoint,
    shape: Shape,
}

fn inspect(path: &Path) -> Result<Inspected, DnaBertError> {
    let (dir, weights) = layout::resolve(path)?;
    // config.json first: it is cheap and names a wrong model before any weights are read.
    let config = DnaBertConfig::from_file(&dir.join("config.json"))?;
    let tokenizer = DnaTokenizer::from_dir(&dir)?;
    let ckpt = layout::encoder_weights(Checkpoint::open(&weights)?)?;
    let shape = Shape::infer(&ckpt)?;
    ckpt.check_keys(&shape.expected_keys(), &layout::ignorable)?;
    let weights = layout::weights_file(&ckpt);
    shape.check_config(&config, &weights)?;
    let tokenizer_vocab = tokenizer.vocab_size();
    if tokenizer_vocab > shape.vocab {
        return Err(DnaBertError::ConfigMismatch {
            path: weights,
            problem: format!(
                "{} has {tokenizer_vocab} tokens but the embeddings only {} rows",
                tokenizer.path().display(),
                shape.vocab
            ),
        });
    }
    Ok(Inspected {
        config,
        tokenizer,
        ckpt,
        shape,
    })
}
