//! One internal naming of the ESM-2 tensors, mapped onto the two layouts found on disk:
//! fair-esm (`layers.N.self_attn.q_proj`, ...) and Hugging Face `EsmModel`
//! (`encoder.layer.N.attention.self.query`, ...). The model code asks for a [`Part`]; only
//! this table knows how a layout spells it.
use crate::weights::Checkpoint;

/// The checkpoint layout, recognised from the tensor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    FairEsm,
    HuggingFace,
}

/// The tensors (or `Linear`/`LayerNorm` prefixes) of one transformer layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Query,
    Key,
    Value,
    AttnOut,
    AttnNorm,
    Fc1,
    Fc2,
    FinalNorm,
    /// The rotary `inv_freq` buffer (a tensor name, not a prefix).
    InvFreq,
}

impl Part {
    /// Every part, for iterating in tests.
    #[cfg(test)]
    const ALL: [Part; 9] = [
        Part::Query,
        Part::Key,
        Part::Value,
        Part::AttnOut,
        Part::AttnNorm,
        Part::Fc1,
        Part::Fc2,
        Part::FinalNorm,
        Part::InvFreq,
    ];

    /// (fair-esm name, Hugging Face name), relative to the layer prefix.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Part::Query => ("self_attn.q_proj", "attention.self.query"),
            Part::Key => ("self_attn.k_proj", "attention.self.key"),
            Part::Value => ("self_attn.v_proj", "attention.self.value"),
            Part::AttnOut => ("self_attn.out_proj", "attention.output.dense"),
            Part::AttnNorm => ("self_attn_layer_norm", "attention.LayerNorm"),
            Part::Fc1 => ("fc1", "intermediate.dense"),
            Part::Fc2 => ("fc2", "output.dense"),
            Part::FinalNorm => ("final_layer_norm", "LayerNorm"),
            Part::InvFreq => (
                "self_attn.rot_emb.inv_freq",
                "attention.self.rotary_embeddings.inv_freq",
            ),
        }
    }
}

/// HF tensors that ESM-2 embeddings do not use: the learned absolute positions that rotary
/// models carry unused, the contact head, an `EsmModel` pooler, and the MLM head when the
/// checkpoint has no `esm.` prefix to strip it with.
const HF_IGNORED: [&str; 5] = [
    "embeddings.position_embeddings.",
    "embeddings.position_ids",
    "contact_head.",
    "pooler.",
    "lm_head.",
];

impl Layout {
    /// The token embedding matrix.
    pub fn embed_tokens(self) -> &'static str {
        match self {
            Layout::FairEsm => "embed_tokens.weight",
            Layout::HuggingFace => "embeddings.word_embeddings.weight",
        }
    }

    /// The `LayerNorm` prefix applied after the last layer.
    pub fn final_norm(self) -> &'static str {
        match self {
            Layout::FairEsm => "emb_layer_norm_after",
            Layout::HuggingFace => "encoder.emb_layer_norm_after",
        }
    }

    /// The prefix shared by all layers, before the layer index.
    fn layers_root(self) -> &'static str {
        match self {
            Layout::FairEsm => "layers.",
            Layout::HuggingFace => "encoder.layer.",
        }
    }

    /// The name of `part` of layer `layer` (a prefix for linear and norm parts).
    pub fn part(self, layer: usize, part: Part) -> String {
        let (fair, hf) = part.names();
        let suffix = match self {
            Layout::FairEsm => fair,
            Layout::HuggingFace => hf,
        };
        format!("{}{layer}.{suffix}", self.layers_root())
    }

    /// Names present in checkpoints of this layout that the model does not use.
    pub fn ignored(self, name: &str) -> bool {
        match self {
            // fair-esm keeps its MLM and contact heads outside `encoder.sentence_encoder.`.
            Layout::FairEsm => false,
            Layout::HuggingFace => HF_IGNORED.iter().any(|p| name.starts_with(p)),
        }
    }

    /// Number of layers the names hold: one more than the highest layer index, so that a
    /// gap shows up as missing keys rather than as a shorter model.
    pub fn count_layers(self, checkpoint: &Checkpoint) -> usize {
        checkpoint
            .names()
            .iter()
            .filter_map(|name| {
                let rest = name.strip_prefix(self.layers_root())?;
                let (index, _) = rest.split_once('.')?;
                index.parse::<usize>().ok()
            })
            .max()
            .map_or(0, |max| max + 1)
    }
}

/// The layout and name prefix of the ESM-2 encoder inside a checkpoint, recognised by the
/// names that only ESM-2 has: fair-esm's `embed_tokens.weight` next to
/// `emb_layer_norm_after`, or HF's `embeddings.word_embeddings.weight` next to
/// `encoder.emb_layer_norm_after` (BERT-like models such as DNABERT share only the former).
pub(crate) fn detect(names: &[&str]) -> Result<(Layout, String), String> {
    let mut found = Vec::new();
    for layout in [Layout::FairEsm, Layout::HuggingFace] {
        for name in names {
            let Some(prefix) = name.strip_suffix(layout.embed_tokens()) else {
                continue;
            };
            if !(prefix.is_empty() || prefix.ends_with('.')) {
                continue;
            }
            let norm = format!("{prefix}{}.weight", layout.final_norm());
            if names.contains(&norm.as_str()) {
                found.push((layout, prefix.to_string()));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "none of its {} tensors is an ESM-2 token embedding (`embed_tokens.weight` or \
             `embeddings.word_embeddings.weight` beside an `emb_layer_norm_after`){}",
            names.len(),
            sample(names)
        )),
        _ => Err(format!(
            "it holds {} ESM-2 encoders (under {}); give a checkpoint with one",
            found.len(),
            found
                .iter()
                .map(|(_, p)| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A few names of the checkpoint, to show what it is instead.
fn sample(names: &[&str]) -> String {
    const SHOWN: usize = 4;
    if names.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = names.iter().take(SHOWN).copied().collect();
    let more = if names.len() > SHOWN { ", ..." } else { "" };
    format!("; it holds {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_name_the_same_parts() {
        for (layout, layer, part, name) in [
            (Layout::FairEsm, 3, Part::Query, "layers.3.self_attn.q_proj"),
            (
                Layout::HuggingFace,
                3,
                Part::Query,
                "encoder.layer.3.attention.self.query",
            ),
            (
                Layout::HuggingFace,
                0,
                Part::FinalNorm,
                "encoder.layer.0.LayerNorm",
            ),
            (
                Layout::FairEsm,
                0,
                Part::InvFreq,
                "layers.0.self_attn.rot_emb.inv_freq",
            ),
        ] {
            assert_eq!(layout.part(layer, part), name);
        }
        for part in Part::ALL {
            assert_ne!(
                Layout::FairEsm.part(1, part),
                Layout::HuggingFace.part(1, part)
            );
        }
    }

    #[test]
    fn detects_layout_and_prefix() {
        let fair = [
            "model.encoder.lm_head.weight",
            "model.encoder.sentence_encoder.emb_layer_norm_after.weight",
            "model.encoder.sentence_encoder.embed_tokens.weight",
        ];
        assert_eq!(
            detect(&fair),
            Ok((Layout::FairEsm, "model.encoder.sentence_encoder.".into()))
        );
        let hf = [
            "esm.embeddings.word_embeddings.weight",
            "esm.encoder.emb_layer_norm_after.weight",
        ];
        assert_eq!(detect(&hf), Ok((Layout::HuggingFace, "esm.".into())));
        let bare = [
            "embeddings.word_embeddings.weight",
            "encoder.emb_layer_norm_after.weight",
        ];
        assert_eq!(detect(&bare), Ok((Layout::HuggingFace, String::new())));
    }

    #[test]
    fn bert_like_names_are_not_esm2() {
        let bert = [
            "embeddings.LayerNorm.weight",
            "embeddings.word_embeddings.weight",
            "encoder.layer.0.attention.self.Wqkv.weight",
        ];
        let err = detect(&bert).unwrap_err();
        assert!(err.contains("none of its 3 tensors"), "{err}");
        assert!(err.contains("Wqkv"), "{err}");
        // A suffix match inside a longer name is no embedding either.
        let odd = ["xembed_tokens.weight", "xemb_layer_norm_after.weight"];
        assert!(detect(&odd).is_err());
    }
}
