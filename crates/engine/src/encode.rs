//! What an encoder model offers the embedding runner: a tokenizer ([`Tokenize`]) and a
//! loaded model ([`Encode`]). DNABERT-S and ESM-2 (and test doubles) implement these, and
//! the runner (`crate::embed`) runs them all through the same batching, device workers and
//! output code. The traits sit below both, so the models do not depend on the runner.
use tch::Tensor;

/// Turns one sequence into token ids. Shared by all workers, so it must be `Sync`.
pub trait Tokenize: Send + Sync {
    /// Token ids including special tokens. The error says what is wrong with the sequence;
    /// the caller adds the file and record.
    fn encode(&self, sequence: &str) -> Result<Vec<i64>, String>;
    /// The id right-padding is filled with.
    fn pad_id(&self) -> i64;
}

/// A loaded model on one device. Tensors are not `Sync`, so each worker owns its own; they
/// are `Send`, so a model loaded once can serve the workers of one run after another (the
/// samples of a run, `embed::KeepLoaded`).
pub trait Encode: Send {
    /// Width of an embedding.
    fn dim(&self) -> usize;
    /// Embeddings of a right-padded batch: `ids` is `[B, T]` int64 on the model's device,
    /// `lengths[b]` the tokens of row `b` (including special tokens). Returns `[B, dim]`
    /// f32 on the CPU.
    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError>;
}
