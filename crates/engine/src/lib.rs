//! The libtorch side of VirNucPro: models, weight loading, device workers and the stage
//! runner. For now it holds the runtime facts every later stage needs (which libtorch the
//! binary was built against and whether the CUDA backend could be loaded) and the MLP
//! classifier.

pub mod backend;
pub mod classifier;
pub mod devices;
pub mod discovery;

pub use backend::{Backend, CudaBackend};
pub use classifier::{ClassifierError, ClassifierProblem, Label, MlpClassifier, Prediction};
