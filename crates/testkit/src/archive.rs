//! Stand-ins for downloads: zip archives laid out like wheels, and bytes that do not
//! compress (so that a throttled download takes a while and sizes are what they say).
use std::io::Write;

/// A zip archive of `members` (name, bytes), stored or deflated.
pub fn zip_archive(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, bytes) in members {
        zip.start_file(*name, options)
            .unwrap_or_else(|e| panic!("zip member {name}: {e}"));
        zip.write_all(bytes)
            .unwrap_or_else(|e| panic!("zip member {name}: {e}"));
    }
    zip.finish().unwrap_or_else(|e| panic!("zip: {e}"));
    out.into_inner()
}

/// `len` pseudo-random bytes (xorshift from `seed`): the same for the same seed.
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
