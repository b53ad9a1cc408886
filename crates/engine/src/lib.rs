//! The libtorch side of VirNucPro: the DNABERT-S and ESM-2 encoders and the MLP classifier,
//! weight loading from the files users have, the device list and model discovery, and the
//! embedding runner (one worker per device). `backend` says which libtorch the binary was
//! built against and whether the CUDA backend could be loaded.

pub mod backend;
pub mod classifier;
pub mod devices;
/// Finding installed weights: pure Rust, in `virnucpro-models` so that commands that run no
/// model find them without linking libtorch.
pub use virnucpro_models::discovery;
pub mod dnabert;
pub mod embed;
pub mod encode;
pub mod esm2;
pub mod layers;
pub mod run;
pub mod weights;

pub use backend::{Backend, CudaBackend};
pub use classifier::{ClassifierError, ClassifierProblem, Label, MlpClassifier, Prediction};
pub use devices::{DeviceChoice, DeviceId};
