use std::fs::File;
use std::io;
use std::path::Path;

use memmap2::MmapOptions;
use xxhash_rust::xxh3::xxh3_64;

use super::InputChecksum;

/// Name, size and XXH3-64 of the file at `path` (memory-mapped, hashed in one pass).
pub fn checksum_file(path: &Path) -> io::Result<InputChecksum> {
    let file = File::open(path)?;
    let bytes = file.metadata()?.len();
    let hash = if bytes == 0 {
        xxh3_64(&[])
    } else {
        // SAFETY: read-only map; see `FeatureFile::open`.
        let map = unsafe { MmapOptions::new().populate().map(&file) }?;
        xxh3_64(&map)
    };
    Ok(InputChecksum {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        xxh3: format!("{hash:016x}"),
        bytes,
    })
}
