//! Typed errors of the pickle VM ([`PickleError`]) and of torch archives ([`TorchFileError`]).
use std::path::{Path, PathBuf};

use crate::file_kind::FileKind;

/// Why a pickle stream was refused, and at which byte of it.
#[derive(Debug, thiserror::Error)]
#[error("pickle byte {offset}: {kind}")]
pub struct PickleError {
    /// Offset of the opcode being executed when the problem was found.
    pub offset: usize,
    pub kind: PickleErrorKind,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickleErrorKind {
    #[error("the stream ends in the middle of an opcode or before STOP")]
    UnexpectedEof,
    #[error("unknown opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    #[error("opcode {0} is not supported (it needs code execution, out-of-band buffers or an extension registry)")]
    UnsupportedOpcode(&'static str),
    #[error("unsupported pickle protocol {0}")]
    UnsupportedProtocol(u8),
    #[error("refusing global {module}.{name}: it could execute code")]
    ForbiddenGlobal { module: String, name: String },
    #[error("{opcode} needs a value on the stack, but the stack is empty")]
    StackUnderflow { opcode: &'static str },
    #[error("{opcode} needs a MARK, but there is none")]
    MissingMark { opcode: &'static str },
    #[error("memo entry {0} is read before it is written")]
    MissingMemo(u64),
    #[error("the memo refers to itself (a recursive structure)")]
    RecursiveStructure,
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded { what: &'static str, limit: u64 },
    #[error("a string is not valid UTF-8")]
    InvalidUtf8,
    #[error("malformed text operand for {0}")]
    BadText(&'static str),
    #[error("{0}")]
    BadOperand(String),
    #[error("invalid tensor: {0}")]
    BadTensor(String),
}

impl PickleError {
    pub(crate) fn new(offset: usize, kind: PickleErrorKind) -> Self {
        Self { offset, kind }
    }
}

/// A problem with a torch archive (`torch.save` zip), always reported with the file's path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct TorchFileError {
    pub path: PathBuf,
    pub problem: TorchFileProblem,
}

impl TorchFileError {
    pub(crate) fn new(path: &Path, problem: TorchFileProblem) -> Self {
        Self {
            path: path.to_path_buf(),
            problem,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TorchFileProblem {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is of another kind than a `torch.save` zip archive.
    #[error("not a zip archive (torch.save files are zip archives since PyTorch 1.6): it is {0}")]
    NotZip(FileKind),
    #[error("malformed zip archive: {0}")]
    BadZip(String),
    #[error("zip entry {entry} uses compression method {method}; torch archives store entries uncompressed")]
    UnsupportedCompression { entry: String, method: u16 },
    #[error("zip entry {0} is encrypted")]
    Encrypted(String),
    #[error("no <name>/data.pkl entry: not a torch archive")]
    NoDataPkl,
    #[error("more than one <name>/data.pkl entry ({0} and {1})")]
    AmbiguousDataPkl(String, String),
    #[error("data.pkl is {size} bytes, more than the limit of {limit}")]
    DataPklTooLarge { size: u64, limit: u64 },
    #[error("tensors are stored big-endian; only little-endian archives are supported")]
    BigEndian,
    #[error("unknown byteorder record {0:?}")]
    UnknownByteorder(String),
    #[error("{0}")]
    Pickle(#[from] PickleError),
    #[error("tensor storage {0} is missing from the archive")]
    MissingStorage(String),
    #[error("tensor needs elements {first}..{end} of storage {key}, which holds {available}")]
    StorageOutOfBounds {
        key: String,
        first: u64,
        end: u64,
        available: u64,
    },
    #[error("tensor dtype {dtype} cannot be read as {wanted}")]
    UnsupportedDtype { dtype: String, wanted: &'static str },
    #[error("unsupported tensor layout: {0}")]
    UnsupportedLayout(String),
}
