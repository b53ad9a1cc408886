//! Deterministic synthetic reads for benchmarks: `synthetic_reads READS LENGTH OUT.fa [SEED]`.
//!
//! Uniform random DNA almost never has a stop-free frame over 500 bp, which would make the
//! translation and writing side of `prepare` look cheaper than on real reads. So 70 % of
//! the reads carry an open reading frame (random sense codons) in a random frame and
//! strand; the rest are uniform random bases with 1 % N.
use std::io::{BufWriter, Write};

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: synthetic_reads READS LENGTH OUT.fa [SEED]".into());
    }
    let reads: u64 = args[1].parse()?;
    let length: usize = args[2].parse()?;
    let seed: u64 = args
        .get(4)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(0x5eed);
    let mut rng = XorShift(seed | 1);
    let sense: Vec<[u8; 3]> = (0..64u8)
        .map(|i| {
            [
                BASES[(i >> 4) as usize],
                BASES[((i >> 2) & 3) as usize],
                BASES[(i & 3) as usize],
            ]
        })
        .filter(|c| !matches!(c, b"TAA" | b"TAG" | b"TGA"))
        .collect();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[3])?);
    let mut seq = Vec::with_capacity(length + 3);
    for i in 0..reads {
        seq.clear();
        if rng.below(10) < 7 {
            let offset = rng.below(3) as usize;
            seq.extend((0..offset).map(|_| BASES[rng.below(4) as usize]));
            while seq.len() < length {
                seq.extend_from_slice(&sense[rng.below(sense.len() as u64) as usize]);
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
        } else {
            seq.extend((0..length).map(|_| {
                if rng.below(100) == 0 {
                    b'N'
                } else {
                    BASES[rng.below(4) as usize]
                }
            }));
        }
        writeln!(out, ">read_{i} synthetic")?;
        for line in seq.chunks(80) {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}
