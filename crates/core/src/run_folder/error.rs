use std::io;
use std::path::PathBuf;

/// Why a file of a run folder could not be read (or written). Every message names the
/// file, and the field or line at fault.
#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A JSON file that is not ours, or a field with a value we do not know (an unknown
    /// precision or state is an error, never a default).
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A TSV file (`failures.tsv`) that is not ours, or a line with a value this version
    /// does not know.
    #[error(transparent)]
    Tsv(#[from] crate::tsv::TsvError),
}

impl RunFolderError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
