//! Reading PyTorch `torch.save` files without Python and without executing anything.
//!
//! [`TorchArchive`] opens the zip and reads storages on demand; [`parse_pickle`] runs the
//! pickle in a VM that maps a short allow-list of globals to inert data (tensors, ordered
//! dicts, sets), keeps any other class as an inert [`Object`], and refuses globals that could
//! execute code ([`PickleErrorKind::ForbiddenGlobal`]). See `docs/formats.md`.
mod archive;
mod error;
mod globals;
mod input;
mod node;
mod source;
mod state_dict;
mod tensor;
mod value;
mod vm;
mod zip;

pub use archive::{TorchArchive, MAX_PICKLE_BYTES};
pub use error::{PickleError, PickleErrorKind, TorchFileError, TorchFileProblem};
pub use source::{ByteSource, FileSource};
pub use state_dict::named_tensors;
pub use tensor::{Dtype, StorageRef, TensorRef};
pub use value::{Global, Object, Value};
pub use vm::{parse_pickle, Limits};
