//! The model's dimensions, read from the tensor shapes (which are what the weights are),
//! cross-checked against what the checkpoint declares: Hugging Face `config.json`, or the
//! `cfg["model"]` Namespace of a fair-esm `.pt`.
use std::path::{Path, PathBuf};

use virnucpro_core::pickle::Value;

use super::alphabet::Alphabet;
use super::error::Esm2Problem;
use super::keys::{Layout, Part};
use crate::weights::Checkpoint;

/// fair-esm builds every ESM-2 layer norm as `torch.nn.LayerNorm` with its default eps.
const FAIR_ESM_LAYER_NORM_EPS: f64 = 1e-5;
/// `transformers.EsmConfig` defaults, used when a `config.json` omits the field.
const HF_DEFAULT_LAYER_NORM_EPS: f64 = 1e-12;
const HF_DEFAULT_TOKEN_DROPOUT: bool = false;

/// The shape of an ESM-2 model.
#[derive(Debug, Clone, PartialEq)]
pub struct Esm2Config {
    pub num_layers: usize,
    pub hidden: i64,
    pub heads: i64,
    pub head_dim: i64,
    pub intermediate: i64,
    pub vocab: i64,
    pub layer_norm_eps: f64,
    /// Whether embeddings are rescaled for the masking rate seen in training (all released
    /// ESM-2 models: yes).
    pub token_dropout: bool,
}

impl Esm2Config {
    /// Every tensor the model reads, named as `layout` spells it, with the shape this
    /// configuration needs.
    pub(crate) fn expected_tensors(&self, layout: Layout) -> Vec<(String, Vec<i64>)> {
        let h = self.hidden;
        let i = self.intermediate;
        let mut out = vec![
            (layout.embed_tokens().to_string(), vec![self.vocab, h]),
            (format!("{}.weight", layout.final_norm()), vec![h]),
            (format!("{}.bias", layout.final_norm()), vec![h]),
        ];
        for layer in 0..self.num_layers {
            for (part, weight, bias) in [
                (Part::Query, vec![h, h], vec![h]),
                (Part::Key, vec![h, h], vec![h]),
                (Part::Value, vec![h, h], vec![h]),
                (Part::AttnOut, vec![h, h], vec![h]),
                (Part::AttnNorm, vec![h], vec![h]),
                (Part::Fc1, vec![i, h], vec![i]),
                (Part::Fc2, vec![h, i], vec![h]),
                (Part::FinalNorm, vec![h], vec![h]),
            ] {
                let prefix = layout.part(layer, part);
                out.push((format!("{prefix}.weight"), weight));
                out.push((format!("{prefix}.bias"), bias));
            }
            out.push((layout.part(layer, Part::InvFreq), vec![self.head_dim / 2]));
        }
        out
    }
}

/// What a configuration declares; any dimension may be absent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Declared {
    /// Where it was read, for messages.
    pub source: String,
    pub hidden: Option<i64>,
    pub heads: Option<i64>,
    pub layers: Option<i64>,
    pub intermediate: Option<i64>,
    pub vocab: Option<i64>,
    pub layer_norm_eps: f64,
    pub token_dropout: bool,
}

/// The declared configuration of the checkpoint at `path`, if it has one.
pub(crate) fn declared(
    path: &Path,
    layout: Layout,
    root: Option<&Value>,
) -> Result<Option<Declared>, Esm2Problem> {
    match layout {
        Layout::HuggingFace => config_json(path).map(|c| hf_config(&c)).transpose(),
        Layout::FairEsm => root.map(fair_esm_cfg).transpose().map(Option::flatten),
    }
}

/// Hugging Face `config.json` of an `EsmModel`/`EsmForMaskedLM`.
fn hf_config(path: &Path) -> Result<Declared, Esm2Problem> {
    let bad = |detail: String| Esm2Problem::ConfigFile {
        path: path.to_path_buf(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let int = |key: &str| match obj.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("{key} is {v}, not an integer"))),
    };
    let string = |key: &str| obj.get(key).and_then(|v| v.as_str());
    // (key, ESM-2's value, whether another value means another kind of model)
    for (key, esm2, other_model) in [
        ("model_type", "esm", true),
        ("position_embedding_type", "rotary", true),
        ("hidden_act", "gelu", false),
    ] {
        if let Some(found) = string(key).filter(|found| *found != esm2) {
            let detail = format!(
                "{} says {key} {found:?}, but ESM-2 has {esm2:?}",
                path.display()
            );
            return Err(if other_model {
                Esm2Problem::WrongArchitecture(detail)
            } else {
                Esm2Problem::InconsistentConfig(detail)
            });
        }
    }
    if obj.get("emb_layer_norm_before").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Esm2Problem::WrongArchitecture(format!(
            "{} sets emb_layer_norm_before, which ESM-2 does not have",
            path.display()
        )));
    }
    for (key, id) in [
        ("pad_token_id", Alphabet::PAD),
        ("mask_token_id", Alphabet::MASK),
    ] {
        if let Some(found) = int(key)? {
            if found != id {
                return Err(Esm2Problem::InconsistentConfig(format!(
                    "{} says {key} = {found}, but the ESM-2 alphabet has {id}",
                    path.display()
                )));
            }
        }
    }
    let layer_norm_eps = match obj.get("layer_norm_eps") {
        None | Some(serde_json::Value::Null) => HF_DEFAULT_LAYER_NORM_EPS,
        Some(v) => v
            .as_f64()
            .ok_or_else(|| bad(format!("layer_norm_eps is {v}, not a number")))?,
    };
    let token_dropout = match obj.get("token_dropout") {
        None | Some(serde_json::Value::Null) => HF_DEFAULT_TOKEN_DROPOUT,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad(format!("token_dropout is {v}, not a boolean")))?,
    };
    Ok(Declared {
        source: path.display().to_string(),
        hidden: int("hidden_size")?,
        heads: int("num_attention_heads")?,
        layers: int("num_hidden_layers")?,
        intermediate: int("intermediate_size")?,
        vocab: int("vocab_size")?,
        layer_norm_eps,
        token_dropout,
    })
}

/// `cfg["model"]` of a fair-esm ESM-2 `.pt` (an `argparse.Namespace`). `None` for a bare
/// state dict. ESM-1 and ESM-1b files keep an `args` Namespace instead, and are refused.
fn fair_esm_cfg(root: &Value) -> Result<Option<Declared>, Esm2Problem> {
    let Some(cfg) = root.get("cfg") else {
        if root.get("args").is_some() {
            return Err(Esm2Problem::WrongArchitecture(
                "it has fair-esm `args` but no `cfg`: an ESM-1/ESM-1b checkpoint".into(),
            ));
        }
        return Ok(None);
    };
    let model = cfg.get("model").ok_or_else(|| {
        Esm2Problem::InconsistentConfig("the fair-esm `cfg` has no `model` entry".into())
    })?;
    // A Namespace keeps its fields as instance attributes; accept a plain dict too.
    let field = |key: &str| match model {
        Value::Object(object) => object.attr(key),
        other => other.get(key),
    };
    let bad = |key: &str, v: &Value| {
        Esm2Problem::InconsistentConfig(format!(
            "cfg.model.{key} is a {}, not the expected type",
            v.type_name()
        ))
    };
    let int = |key: &str| match field(key) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(*i)),
        Some(v) => Err(bad(key, v)),
    };
    if !matches!(model, Value::Object(_) | Value::Dict(_)) {
        return Err(Esm2Problem::InconsistentConfig(format!(
            "cfg.model is a {}, not a Namespace",
            model.type_name()
        )));
    }
    if let Some(arch) = field("arch") {
        match arch.as_str() {
            Some("esm2") => {}
            Some(other) => {
                return Err(Esm2Problem::WrongArchitecture(format!(
                    "its fair-esm cfg.model.arch is {other:?}, not \"esm2\""
                )))
            }
            None => return Err(bad("arch", arch)),
        }
    }
    let token_dropout = match field("token_dropout") {
        None => {
            tracing::warn!(
                "fair-esm cfg.model has no token_dropout; assuming true as in every released ESM-2"
            );
            true
        }
        Some(Value::Bool(b)) => *b,
        Some(v) => return Err(bad("token_dropout", v)),
    };
    Ok(Some(Declared {
        source: "the fair-esm cfg.model".into(),
        hidden: int("encoder_embed_dim")?,
        heads: int("encoder_attention_heads")?,
        layers: int("encoder_layers")?,
        // fair-esm fixes the feed-forward width at 4 x hidden; the fc1 shape tells it.
        intermediate: None,
        vocab: None,
        layer_norm_eps: FAIR_ESM_LAYER_NORM_EPS,
        token_dropout,
    }))
}

/// The configuration of the (prefix-stripped) checkpoint, from its tensor shapes, checked
/// against `declared`.
pub(crate) fn resolve(
    checkpoint: &Checkpoint,
    layout: Layout,
    declared: Option<&Declared>,
) -> Result<Esm2Config, Esm2Problem> {
    let inconsistent = |s: String| Esm2Problem::InconsistentConfig(s);
    let embed_name = layout.embed_tokens();
    let hidden = match checkpoint.info(embed_name).map(|i| i.shape.as_slice()) {
        Some(&[_, hidden]) if hidden > 0 => hidden,
        other => {
            return Err(inconsistent(format!(
                "{embed_name} has shape {other:?}, expected [{}, hidden]",
                Alphabet::SIZE
            )))
        }
    };
    let num_layers = layout.count_layers(checkpoint);
    if num_layers == 0 {
        return Err(inconsistent(
            "the weights hold no transformer layers".into(),
        ));
    }
    let inv_freq = layout.part(0, Part::InvFreq);
    let head_dim = match checkpoint.info(&inv_freq).map(|i| i.shape.as_slice()) {
        Some(&[half]) if half > 0 => 2 * half,
        _ => match declared.and_then(|d| d.heads) {
            // check_keys reports the missing buffer once the shapes are known.
            Some(heads) if heads > 0 && hidden % heads == 0 => hidden / heads,
            _ => {
                return Err(inconsistent(format!(
                    "cannot tell the number of attention heads: {inv_freq} is missing or \
                     not a vector, and no configuration declares them"
                )))
            }
        },
    };
    if hidden % head_dim != 0 {
        return Err(inconsistent(format!(
            "hidden size {hidden} is not a multiple of the rotary head size {head_dim} \
             (twice the length of {inv_freq})"
        )));
    }
    let fc1 = format!("{}.weight", layout.part(0, Part::Fc1));
    let intermediate = match checkpoint.info(&fc1).map(|i| i.shape.as_slice()) {
        Some(&[rows, _]) if rows > 0 => rows,
        _ => declared.and_then(|d| d.intermediate).unwrap_or(4 * hidden),
    };
    let config = Esm2Config {
        num_layers,
        hidden,
        heads: hidden / head_dim,
        head_dim,
        intermediate,
        vocab: Alphabet::SIZE as i64,
        layer_norm_eps: declared.map_or(FAIR_ESM_LAYER_NORM_EPS, |d| d.layer_norm_eps),
        token_dropout: declared.is_none_or(|d| d.token_dropout),
    };
    if let Some(declared) = declared {
        cross_check(&config, declared)?;
    }
    if !(config.layer_norm_eps.is_finite() && config.layer_norm_eps > 0.0) {
        return Err(inconsistent(format!(
            "layer_norm_eps {} is not a positive number",
            config.layer_norm_eps
        )));
    }
    Ok(config)
}

/// Every declared dimension must be the one the tensors have.
fn cross_check(config: &Esm2Config, declared: &Declared) -> Result<(), Esm2Problem> {
    let checks = [
        (
            "hidden size",
            declared.hidden,
            config.hidden,
            "the token embedding",
        ),
        (
            "number of attention heads",
            declared.heads,
            config.heads,
            "hidden size / (2 x rotary inv_freq length)",
        ),
        (
            "number of layers",
            declared.layers,
            config.num_layers as i64,
            "the layers in the weights",
        ),
        (
            "feed-forward size",
            declared.intermediate,
            config.intermediate,
            "fc1",
        ),
        (
            "vocabulary size",
            declared.vocab,
            config.vocab,
            "the ESM-2 alphabet",
        ),
    ];
    let mismatches: Vec<String> = checks
        .iter()
        .filter_map(|(what, said, found, from)| match said {
            Some(said) if said != found => Some(format!("{what} {said}, but {from} gives {found}")),
            _ => None,
        })
        .collect();
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(Esm2Problem::InconsistentConfig(format!(
        "{} declares {}",
        declared.source,
        mismatches.join("; ")
    )))
}

/// The `config.json` of an HF model folder, or of the folder a weight file lies in.
fn config_json(path: &Path) -> Option<PathBuf> {
    let dir = if path.is_dir() {
        Some(path)
    } else {
        path.parent()
    };
    dir.map(|d| d.join("config.json")).filter(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use virnucpro_core::pickle::Object;

    use super::*;

    fn namespace(fields: &[(&str, Value)]) -> Value {
        let state = fields
            .iter()
            .map(|(k, v)| (Value::Str(k.to_string()), v.clone()))
            .collect();
        Value::Object(Box::new(Object {
            module: "argparse".into(),
            name: "Namespace".into(),
            args: vec![],
            kwargs: vec![],
            state: Some(Value::Dict(state)),
        }))
    }

    fn root(cfg_model: Value) -> Value {
        Value::Dict(vec![(
            Value::Str("cfg".into()),
            Value::Dict(vec![(Value::Str("model".into()), cfg_model)]),
        )])
    }

    #[test]
    fn reads_the_fair_esm_namespace() {
        let cfg = namespace(&[
            ("arch", Value::Str("esm2".into())),
            ("encoder_layers", Value::Int(36)),
            ("encoder_embed_dim", Value::Int(2560)),
            ("encoder_attention_heads", Value::Int(40)),
            ("token_dropout", Value::Bool(true)),
        ]);
        let declared = fair_esm_cfg(&root(cfg)).unwrap().unwrap();
        assert_eq!(
            (declared.layers, declared.hidden, declared.heads),
            (Some(36), Some(2560), Some(40))
        );
        assert!(declared.token_dropout);
        assert_eq!(declared.layer_norm_eps, 1e-5);
    }

    #[test]
    fn refuses_other_fair_esm_models() {
        let esm1b = Value::Dict(vec![(Value::Str("args".into()), namespace(&[]))]);
        assert!(matches!(
            fair_esm_cfg(&esm1b),
            Err(Esm2Problem::WrongArchitecture(_))
        ));
        let msa = root(namespace(&[("arch", Value::Str("msa_transformer".into()))]));
        assert!(matches!(
            fair_esm_cfg(&msa),
            Err(Esm2Problem::WrongArchitecture(_))
        ));
        let bad = root(namespace(&[("encoder_layers", Value::Str("36".into()))]));
        assert!(matches!(
            fair_esm_cfg(&bad),
            Err(Esm2Problem::InconsistentConfig(_))
        ));
        // A bare state dict has no configuration at all.
        assert_eq!(fair_esm_cfg(&Value::Dict(vec![])).unwrap(), None);
    }

    #[test]
    fn every_disagreement_is_listed() {
        let config = Esm2Config {
            num_layers: 2,
            hidden: 64,
            heads: 4,
            head_dim: 16,
            intermediate: 256,
            vocab: 33,
            layer_norm_eps: 1e-5,
            token_dropout: true,
        };
        let mut declared = Declared {
            source: "config.json".into(),
            hidden: Some(64),
            heads: Some(4),
            layers: Some(2),
            intermediate: Some(256),
            vocab: Some(33),
            layer_norm_eps: 1e-5,
            token_dropout: true,
        };
        assert!(cross_check(&config, &declared).is_ok());
        declared.hidden = Some(128);
        declared.vocab = Some(34);
        let Err(Esm2Problem::InconsistentConfig(text)) = cross_check(&config, &declared) else {
            panic!("accepted");
        };
        assert_eq!(
            text,
            "config.json declares hidden size 128, but the token embedding gives 64; \
             vocabulary size 34, but the ESM-2 alphabet gives 33"
        );
    }
}
