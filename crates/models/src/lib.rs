//! The models a VirNucPro run needs, and getting them onto a fresh machine without Python:
//! a compiled-in [`catalogue`], resumable and verified downloads ([`download`], [`fetch`])
//! into the caches the Python tools share ([`roots`], [`layout`]), what is installed
//! ([`status`]), and offline [`import`].
//!
//! No libtorch here: a file is checked by its size and checksum, never by loading it.

pub mod catalogue;
pub mod checksum;
pub mod discovery;
pub mod download;
pub mod roots;

pub use catalogue::{Catalogue, CatalogueEntry, ModelRole};
pub use checksum::Checksum;
pub use roots::CacheRoots;
pub mod endpoints;
pub mod fetch;
pub mod layout;
pub mod lock;
pub mod stamps;
pub mod status;

pub use endpoints::Endpoints;
pub use fetch::{fetch, FetchError, FetchEvent, FetchOptions};
pub use status::{status, FileState, FileStatus, ModelState, ModelStatus};
pub mod import;
pub mod provenance;
pub mod runtime;
pub mod verify;

pub use import::{import, ImportMode, ImportReport};
pub use provenance::{provenance, Provenance};
pub use verify::verify;
