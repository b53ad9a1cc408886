//! The FASTA entry point: any bytes (plain or compressed) must give reads, record problems
//! or an input error — never a panic, a hang or unbounded memory — and every read handed
//! on must satisfy what the later stages rely on.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use virnucpro_core::chunk::ChunkPlan;
use virnucpro_core::fasta::{ReadChecks, ReadItem, ReadStream};
use virnucpro_core::frames::SixFrames;

fuzz_target!(|data: &[u8]| {
    let checks = ReadChecks { max_record_len: 1 << 20 };
    let Ok(mut stream) = ReadStream::from_reader(Path::new("fuzz.fa"), std::io::Cursor::new(data.to_vec()), checks) else {
        return;
    };
    let mut six = SixFrames::new();
    while let Some(item) = stream.next() {
        match item {
            Ok(ReadItem::Read(read)) => {
                assert!(!read.id.is_empty() && !read.id.contains(char::is_whitespace));
                assert!(!read.seq.is_empty() && read.seq.len() <= 1 << 20);
                for chunk_len in [3, 300] {
                    let plan = ChunkPlan::new(read.seq.len(), chunk_len);
                    for range in plan.ranges() {
                        six.translate(&read.seq[range], |_, nucleotide, protein| {
                            assert!(!protein.is_empty() && !protein.contains(&b'*'));
                            assert!(nucleotide.len() <= 3 * protein.len() + 1);
                        });
                    }
                }
            }
            Ok(ReadItem::Issue(issue)) => {
                let _ = issue.to_string();
            }
            Err(err) => {
                let _ = err.to_string();
                break;
            }
        }
    }
});
