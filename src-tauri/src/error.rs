//! `CommandError { kind, message }`: what a failed command rejects with in the UI.
use std::path::Path;

use serde::Serialize;
use virnucpro_engine::run::RunError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "CommandErrorKind")]
pub enum ErrorKind {
    /// The request itself is wrong (bad settings, a preset name that is taken).
    Invalid,
    /// A path the user did not choose.
    NotAllowed,
    NotFound,
    Io,
    /// A run is already going.
    Busy,
    /// The engine stopped the run.
    Engine,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
#[ts(rename = "CommandErrorPayload")]
pub struct CommandError {
    pub kind: ErrorKind,
    /// Names the file and the problem.
    pub message: String,
}

pub type CommandResult<T> = Result<T, CommandError>;

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// An I/O error on `path`; a missing file is `not_found`.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        Self::new(kind, format!("{}: {err}", path.display()))
    }

    /// A closure for `map_err` on I/O results about `path`.
    pub fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |err| Self::io(path, &err)
    }
}

impl From<RunError> for CommandError {
    fn from(err: RunError) -> Self {
        let kind = match &err {
            RunError::Invalid(_) => ErrorKind::Invalid,
            RunError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            // The disk: too little free space for the run, or full during it.
            RunError::Io { .. } | RunError::NoSpace { .. } | RunError::DiskFull { .. } => {
                ErrorKind::Io
            }
            RunError::FolderBusy(_) => ErrorKind::Busy,
            _ => ErrorKind::Engine,
        };
        Self::new(kind, err.to_string())
    }
}

impl From<tauri::Error> for CommandError {
    fn from(err: tauri::Error) -> Self {
        Self::new(ErrorKind::Io, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_as_kind_and_message() {
        let err = CommandError::io(
            Path::new("/x/y"),
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["kind"], "not_found");
        assert!(json["message"].as_str().unwrap().starts_with("/x/y: "));
        let run = RunError::Worker("the merge thread panicked".into());
        assert_eq!(CommandError::from(run).kind, ErrorKind::Engine);
        let no_space = RunError::NoSpace {
            folder: "/out".into(),
            needed: 2_000_000,
            available: 1_000_000,
        };
        assert_eq!(CommandError::from(no_space).kind, ErrorKind::Io);
        let full = RunError::disk_full_at(
            Path::new("/out/scores/output_1.scores.safetensors"),
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        let full = CommandError::from(full);
        assert_eq!(full.kind, ErrorKind::Io);
        assert!(
            full.message.contains("is full while writing"),
            "{}",
            full.message
        );
    }
}
