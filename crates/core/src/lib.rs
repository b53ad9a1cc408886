//! Pure-Rust core of VirNucPro Desktop (no libtorch).
//!
//! Data flows one way: reads ([`fasta`]) → chunks ([`chunk`]) → six-frame pairs
//! ([`frames`]) → shards ([`prepare`]) → embeddings → merged rows → scores → reports.
//! Every failure is carried to the end as a typed value.

pub mod atomic;
pub mod cancel;
pub mod chunk;
pub mod compare;
pub mod disk;
pub mod events;
pub mod fasta;
pub mod features;
pub mod file_kind;
pub mod finite;
pub mod frames;
pub mod input_paths;
pub mod legacy;
pub mod merge;
pub mod merged_input;
pub mod pairs;
pub mod pickle;
pub mod precision;
pub mod prepare;
pub mod report;
pub mod run_folder;
pub mod threads;
pub mod timestamp;
pub mod tsv;

pub use cancel::CancelToken;
