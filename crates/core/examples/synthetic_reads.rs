//! Deterministic synthetic reads for benchmarks:
//!
//! ```text
//! synthetic_reads READS LENGTH OUT.fa [SEED]               READS FASTA reads
//! synthetic_reads READS LENGTH PREFIX_R1.fastq.gz [SEED]   READS pairs: PREFIX_R1 and
//!                                                          PREFIX_R2.fastq.gz, gzip'd FASTQ
//!                                                          with Casava 1.8 headers
//! ```
//!
//! Uniform random DNA almost never has a stop-free frame over 500 bp, which would make the
//! translation and writing side of `prepare` look cheaper than on real reads. So 70 % of
//! the reads carry an open reading frame (random sense codons) in a random frame and
//! strand; the rest are uniform random bases with 1 % N.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const BASES: &[u8; 4] = b"ACGT";

/// Reads of `length` bases, 70 % of them with an open reading frame.
struct ReadMaker {
    rng: XorShift,
    sense: Vec<[u8; 3]>,
    length: usize,
}

impl ReadMaker {
    fn new(length: usize, seed: u64) -> Self {
        let sense = (0..64u8)
            .map(|i| {
                [
                    BASES[(i >> 4) as usize],
                    BASES[((i >> 2) & 3) as usize],
                    BASES[(i & 3) as usize],
                ]
            })
            .filter(|c| !matches!(c, b"TAA" | b"TAG" | b"TGA"))
            .collect();
        Self {
            rng: XorShift(seed | 1),
            sense,
            length,
        }
    }

    fn next_read(&mut self, seq: &mut Vec<u8>) {
        let (rng, length) = (&mut self.rng, self.length);
        seq.clear();
        if rng.below(10) >= 7 {
            seq.extend((0..length).map(|_| match rng.below(100) {
                0 => b'N',
                _ => BASES[rng.below(4) as usize],
            }));
            return;
        }
        let offset = rng.below(3) as usize;
        seq.extend((0..offset).map(|_| BASES[rng.below(4) as usize]));
        while seq.len() < length {
            seq.extend_from_slice(&self.sense[rng.below(self.sense.len() as u64) as usize]);
        }
        seq.truncate(length);
        if rng.below(2) == 0 {
            seq.reverse();
            for b in seq.iter_mut() {
                *b = match *b {
                    b'A' => b'T',
                    b'T' => b'A',
                    b'C' => b'G',
                    _ => b'C',
                };
            }
        }
    }
}

fn write_fasta(maker: &mut ReadMaker, reads: u64, out: &Path) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut seq = Vec::with_capacity(maker.length + 3);
    for i in 0..reads {
        maker.next_read(&mut seq);
        writeln!(out, ">read_{i} synthetic")?;
        for line in seq.chunks(80) {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}

/// Both mates of `reads` pairs, as a sequencer's demultiplexer writes them: the same
/// first header word in R1 and R2, the mate number in the comment.
fn write_pairs(maker: &mut ReadMaker, reads: u64, r1: &Path) -> std::io::Result<()> {
    let r1_name = r1.file_name().unwrap_or_default().to_string_lossy();
    let r2 = r1.with_file_name(r1_name.replace("_R1.", "_R2."));
    let gz = |path: &Path| -> std::io::Result<_> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        Ok(GzEncoder::new(file, Compression::fast()))
    };
    let mut mates = [gz(r1)?, gz(&r2)?];
    let quality = vec![b'I'; maker.length];
    let mut seq = Vec::with_capacity(maker.length + 3);
    for i in 0..reads {
        for (mate, out) in mates.iter_mut().enumerate() {
            maker.next_read(&mut seq);
            writeln!(out, "@SIM:1:FC01:1:1101:{i}:1 {}:N:0:1", mate + 1)?;
            out.write_all(&seq)?;
            out.write_all(b"\n+\n")?;
            out.write_all(&quality[..seq.len()])?;
            out.write_all(b"\n")?;
        }
    }
    for out in mates {
        out.finish()?.flush()?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: synthetic_reads READS LENGTH OUT.fa|PREFIX_R1.fastq.gz [SEED]".into());
    }
    let reads: u64 = args[1].parse()?;
    let length: usize = args[2].parse()?;
    let seed: u64 = args
        .get(4)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(0x5eed);
    let mut maker = ReadMaker::new(length, seed);
    let out = Path::new(&args[3]);
    if args[3].ends_with("_R1.fastq.gz") {
        write_pairs(&mut maker, reads, out)?;
    } else {
        write_fasta(&mut maker, reads, out)?;
    }
    Ok(())
}
