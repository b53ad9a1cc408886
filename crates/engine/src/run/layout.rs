//! Moved to `virnucpro_core::run_folder::layout` (issue 13); this re-export goes when the run is split.
pub use virnucpro_core::run_folder::layout::*;
