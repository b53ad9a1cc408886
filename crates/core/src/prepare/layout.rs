//! Names of the files `prepare` writes inside its output folder (docs/formats.md).

/// Sub-folder of the nucleotide shards (`output_1.fa`, `output_2.fa`, …).
pub const NUCLEOTIDE_DIR: &str = "nucleotide";
/// Sub-folder of the protein shards (`output_1.faa`, …).
pub const PROTEIN_DIR: &str = "protein";
/// Written last: the summary of a complete prepare.
pub const MANIFEST_FILE: &str = "prepare.json";

/// The chunked reads, e.g. `reads_chunked500.fa`.
pub fn chunked_file_name(chunk_len: usize) -> String {
    format!("reads_chunked{chunk_len}.fa")
}

/// Shard `index` (1-based) of the nucleotide (`.fa`) or protein (`.faa`) side.
pub fn shard_file_name(index: usize, protein: bool) -> String {
    let ext = if protein { "faa" } else { "fa" };
    format!("output_{index}.{ext}")
}
