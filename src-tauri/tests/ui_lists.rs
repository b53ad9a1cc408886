//! Lists the UI must hold as plain TypeScript (the native file dialog's filter) are core's:
//! this test fails when the UI's copy drifts from the one source.
use std::path::Path;

use virnucpro_core::fasta::{COMPRESSION_SUFFIXES, FASTA_EXTENSIONS};

/// The quoted items of the `extensions: [...]` array that follows `marker` in `file`.
fn ts_string_array(file: &str, marker: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let after = &text[text
        .find(marker)
        .unwrap_or_else(|| panic!("{file}: no {marker}"))..];
    let list = &after[after.find("extensions: [").expect("an extensions list") + 13..];
    let list = &list[..list.find(']').expect("the end of the list")];
    list.split(',')
        .map(|item| item.trim().trim_matches('\'').to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

#[test]
fn the_file_dialogs_fasta_filter_is_cores_list() {
    let ui = ts_string_array("ui/src/setup/inputs-section.ts", "const FASTA_FILTER");
    let core: Vec<String> = FASTA_EXTENSIONS
        .iter()
        .chain(COMPRESSION_SUFFIXES)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        ui, core,
        "ui/src/setup/inputs-section.ts's FASTA_FILTER differs from core::fasta's lists: copy them"
    );
}
