//! Six-frame translation and frame selection (../shared/docs/virnucpro-reference.md §3).
//!
//! Parity rules kept on purpose: the chunk is upper-cased first; the complement swaps only
//! A<->T and C<->G; a codon that is not one of the 64 (N, IUPAC codes, U, '-') adds nothing
//! (no X), so the protein just gets shorter; a frame is kept iff its protein is non-empty
//! and has no stop; the nucleotide written for a frame is one base longer than its codons.

/// The six reading frames, in the order the original emits them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Frame {
    F1,
    F2,
    F3,
    R1,
    R2,
    R3,
}

impl Frame {
    pub const ALL: [Frame; 6] = [
        Frame::F1,
        Frame::F2,
        Frame::F3,
        Frame::R1,
        Frame::R2,
        Frame::R3,
    ];

    /// The suffix appended to the chunk ID (`F1` … `R3`).
    pub fn suffix(self) -> &'static str {
        match self {
            Frame::F1 => "F1",
            Frame::F2 => "F2",
            Frame::F3 => "F3",
            Frame::R1 => "R1",
            Frame::R2 => "R2",
            Frame::R3 => "R3",
        }
    }

    /// 0..6, the position in [`Frame::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Offset of the first codon in the forward chunk or in its reverse complement.
    pub fn offset(self) -> usize {
        self.index() % 3
    }

    pub fn is_reverse(self) -> bool {
        self.index() >= 3
    }
}

/// 2-bit code of an upper-case base, or `INVALID` for anything that is not A, C, G or T.
const INVALID: u8 = 4;
const BASE_CODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    table[b'A' as usize] = 0;
    table[b'C' as usize] = 1;
    table[b'G' as usize] = 2;
    table[b'T' as usize] = 3;
    table
};

/// [`BASE_CODE`] of the upper-cased byte (the chunk is upper-cased before translation).
const BASE_CODE_ANY_CASE: [u8; 256] = {
    let mut table = BASE_CODE;
    table[b'a' as usize] = 0;
    table[b'c' as usize] = 1;
    table[b'g' as usize] = 2;
    table[b't' as usize] = 3;
    table
};

/// Standard genetic code indexed by `16*b1 + 4*b2 + b3` with A=0 C=1 G=2 T=3.
const CODON_TABLE: &[u8; 64] = b"KNKNTTTTRSRSIIMIQHQHPPPPRRRRLLLLEDEDAAAAGGGGVVVV*Y*YSSSS*CWCLFLF";

/// Amino acid per `c1 << 6 | c2 << 3 | c3` of 3-bit base codes (0..=3 for A C G T, 4 for
/// anything else); 0 where a code is 4, i.e. the codon is not one of the 64.
const CODON_BY_CODES: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut i = 0;
    while i < 64 {
        table[(i >> 4) << 6 | ((i >> 2) & 3) << 3 | (i & 3)] = CODON_TABLE[i];
        i += 1;
    }
    table
};

const COMPLEMENT: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i as u8;
        i += 1;
    }
    table[b'A' as usize] = b'T';
    table[b'T' as usize] = b'A';
    table[b'C' as usize] = b'G';
    table[b'G' as usize] = b'C';
    table
};

/// Amino acid of an upper-case codon, `None` when the codon is not one of the 64.
#[inline]
pub fn codon_to_amino_acid(codon: [u8; 3]) -> Option<u8> {
    let (a, b, c) = (
        BASE_CODE[codon[0] as usize],
        BASE_CODE[codon[1] as usize],
        BASE_CODE[codon[2] as usize],
    );
    if (a | b | c) & INVALID != 0 {
        return None;
    }
    Some(CODON_TABLE[(a as usize) << 4 | (b as usize) << 2 | c as usize])
}

/// Reverse complement of an upper-case sequence into `out` (cleared first). Only A, C, G
/// and T are complemented; every other byte is kept as is.
pub fn reverse_complement_into(seq: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(seq.iter().rev().map(|&b| COMPLEMENT[b as usize]));
}

/// Translation of `seq` from `offset`, with stops as `*` and unknown codons skipped.
pub fn translate(seq: &[u8], offset: usize) -> Vec<u8> {
    let mut protein = Vec::new();
    let mut i = offset;
    while i + 2 < seq.len() {
        if let Some(aa) = codon_to_amino_acid([seq[i], seq[i + 1], seq[i + 2]]) {
            protein.push(aa);
        }
        i += 3;
    }
    protein
}

/// Reusable buffers for [`SixFrames::translate`], so the hot loop does not allocate.
#[derive(Debug, Default)]
pub struct SixFrames {
    forward_codes: Vec<u8>,
    reverse_codes: Vec<u8>,
    nucleotide: Vec<u8>,
    protein: Vec<u8>,
}

impl SixFrames {
    pub fn new() -> Self {
        Self::default()
    }

    /// Translate one chunk (any case) in six frames and call `keep(frame, nucleotide,
    /// protein)` for every kept frame, in frame order. The nucleotide is upper-cased (and
    /// reverse-complemented for R frames), as the original writes it.
    pub fn translate(&mut self, chunk: &[u8], mut keep: impl FnMut(Frame, &[u8], &[u8])) {
        // Each strand is encoded once and shared by its three frames; the complement of a
        // code c < 4 is 3 - c, and a non-ACGT code stays non-ACGT, as in the byte complement.
        self.forward_codes.clear();
        self.forward_codes
            .extend(chunk.iter().map(|&b| BASE_CODE_ANY_CASE[b as usize]));
        self.reverse_codes.clear();
        self.reverse_codes
            .extend(
                self.forward_codes
                    .iter()
                    .rev()
                    .map(|&c| if c < INVALID { 3 - c } else { INVALID }),
            );
        let len = chunk.len();
        for frame in Frame::ALL {
            let codes = if frame.is_reverse() {
                &self.reverse_codes
            } else {
                &self.forward_codes
            };
            let offset = frame.offset();
            if !translate_codes(codes, offset, &mut self.protein) || self.protein.is_empty() {
                continue;
            }
            // One base longer than the codons, clipped at the end: the trained quirk.
            let end = (offset + 3 * self.protein.len() + 1).min(len);
            self.nucleotide.clear();
            if frame.is_reverse() {
                // Positions offset..end of the reverse complement are len-end..len-offset
                // of the chunk, read backwards.
                let bases = chunk[len - end..len - offset].iter().rev();
                self.nucleotide
                    .extend(bases.map(|b| COMPLEMENT[b.to_ascii_uppercase() as usize]));
            } else {
                self.nucleotide
                    .extend(chunk[offset..end].iter().map(u8::to_ascii_uppercase));
            }
            keep(frame, &self.nucleotide, &self.protein);
        }
    }
}

/// Translate encoded bases from `offset` into `protein` (cleared first), skipping codons
/// that are not one of the 64; returns false at the first stop (the frame is not kept).
#[inline]
fn translate_codes(codes: &[u8], offset: usize, protein: &mut Vec<u8>) -> bool {
    protein.clear();
    let Some(codes) = codes.get(offset..) else {
        return true;
    };
    for codon in codes.chunks_exact(3) {
        let index = (codon[0] as usize) << 6 | (codon[1] as usize) << 3 | codon[2] as usize;
        match CODON_BY_CODES[index] {
            0 => {}
            b'*' => return false,
            aa => protein.push(aa),
        }
    }
    true
}

/// A kept frame, owned (for tests and small inputs; the pipeline uses [`SixFrames`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFrame {
    pub frame: Frame,
    pub nucleotide: Vec<u8>,
    pub protein: Vec<u8>,
}

/// All kept frames of one chunk.
pub fn kept_frames(chunk: &[u8]) -> Vec<KeptFrame> {
    let mut out = Vec::new();
    SixFrames::new().translate(chunk, |frame, nucleotide, protein| {
        out.push(KeptFrame {
            frame,
            nucleotide: nucleotide.to_vec(),
            protein: protein.to_vec(),
        })
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A plain codon table written out by name, independent of the packed table above.
    fn reference_table() -> HashMap<&'static str, char> {
        let pairs = [
            ("TTT", 'F'),
            ("TTC", 'F'),
            ("TTA", 'L'),
            ("TTG", 'L'),
            ("CTT", 'L'),
            ("CTC", 'L'),
            ("CTA", 'L'),
            ("CTG", 'L'),
            ("ATT", 'I'),
            ("ATC", 'I'),
            ("ATA", 'I'),
            ("ATG", 'M'),
            ("GTT", 'V'),
            ("GTC", 'V'),
            ("GTA", 'V'),
            ("GTG", 'V'),
            ("TCT", 'S'),
            ("TCC", 'S'),
            ("TCA", 'S'),
            ("TCG", 'S'),
            ("CCT", 'P'),
            ("CCC", 'P'),
            ("CCA", 'P'),
            ("CCG", 'P'),
            ("ACT", 'T'),
            ("ACC", 'T'),
            ("ACA", 'T'),
            ("ACG", 'T'),
            ("GCT", 'A'),
            ("GCC", 'A'),
            ("GCA", 'A'),
            ("GCG", 'A'),
            ("TAT", 'Y'),
            ("TAC", 'Y'),
            ("TAA", '*'),
            ("TAG", '*'),
            ("CAT", 'H'),
            ("CAC", 'H'),
            ("CAA", 'Q'),
            ("CAG", 'Q'),
            ("AAT", 'N'),
            ("AAC", 'N'),
            ("AAA", 'K'),
            ("AAG", 'K'),
            ("GAT", 'D'),
            ("GAC", 'D'),
            ("GAA", 'E'),
            ("GAG", 'E'),
            ("TGT", 'C'),
            ("TGC", 'C'),
            ("TGA", '*'),
            ("TGG", 'W'),
            ("CGT", 'R'),
            ("CGC", 'R'),
            ("CGA", 'R'),
            ("CGG", 'R'),
            ("AGT", 'S'),
            ("AGC", 'S'),
            ("AGA", 'R'),
            ("AGG", 'R'),
            ("GGT", 'G'),
            ("GGC", 'G'),
            ("GGA", 'G'),
            ("GGG", 'G'),
        ];
        pairs.into_iter().collect()
    }

    fn reference_translate(seq: &str, offset: usize) -> String {
        let table = reference_table();
        let mut out = String::new();
        let mut i = offset;
        while i + 2 < seq.len() {
            if let Some(aa) = table.get(&seq[i..i + 3]) {
                out.push(*aa);
            }
            i += 3;
        }
        out
    }

    fn reference_revcomp(seq: &str) -> String {
        seq.chars()
            .rev()
            .map(|c| match c {
                'A' => 'T',
                'T' => 'A',
                'C' => 'G',
                'G' => 'C',
                other => other,
            })
            .collect()
    }

    /// The original's frame selection, written plainly on strings.
    fn reference_kept(chunk: &str) -> Vec<(String, String, String)> {
        let upper = chunk.to_ascii_uppercase();
        let rc = reference_revcomp(&upper);
        let mut out = Vec::new();
        for num in 1..=6usize {
            let (strand, off, name) = if num <= 3 {
                (&upper, num - 1, format!("F{num}"))
            } else {
                (&rc, num - 4, format!("R{}", num - 3))
            };
            let protein = reference_translate(strand, off);
            if protein.is_empty() || protein.contains('*') {
                continue;
            }
            let end = (off + 3 * protein.len() + 1).min(strand.len());
            out.push((name, strand[off..end].to_string(), protein));
        }
        out
    }

    #[test]
    fn table_matches_the_named_codons() {
        for (codon, aa) in reference_table() {
            let bytes: [u8; 3] = codon.as_bytes().try_into().unwrap();
            assert_eq!(codon_to_amino_acid(bytes), Some(aa as u8), "{codon}");
        }
        assert_eq!(codon_to_amino_acid(*b"ANA"), None);
        assert_eq!(codon_to_amino_acid(*b"AUG"), None);
        assert_eq!(
            codon_to_amino_acid(*b"atg"),
            None,
            "callers upper-case first"
        );
    }

    #[test]
    fn encoded_table_agrees_with_the_byte_table_exhaustively() {
        for codon in (0..125u32).map(|i| [i / 25, (i / 5) % 5, i % 5].map(|d| b"ACGTN"[d as usize]))
        {
            let mut protein = Vec::new();
            let codes = codon.map(|b| BASE_CODE[b as usize]);
            let stop_free = translate_codes(&codes, 0, &mut protein);
            match codon_to_amino_acid(codon) {
                Some(b'*') => assert!(!stop_free),
                Some(aa) => assert_eq!(protein, vec![aa]),
                None => assert!(stop_free && protein.is_empty()),
            }
        }
    }

    #[test]
    fn unknown_codons_add_nothing_and_nucleotide_is_one_base_longer() {
        // ATG NNN GCC: the NNN codon is skipped, so the protein is "MA" and the nucleotide
        // slice is 3*2+1 = 7 bases from the frame start, not the codons it came from.
        let frames = kept_frames(b"ATGNNNGCCA");
        let f1 = frames.iter().find(|f| f.frame == Frame::F1).unwrap();
        assert_eq!(f1.protein, b"MA");
        assert_eq!(f1.nucleotide, b"ATGNNNG");
    }

    #[test]
    fn complement_keeps_non_acgt() {
        let mut out = Vec::new();
        reverse_complement_into(b"ACGTNRYU-", &mut out);
        assert_eq!(out, b"-UYRNACGT");
    }

    fn dna_with_iupac() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                'A', 'C', 'G', 'T', 'a', 'c', 'g', 't', 'N', 'R', 'Y', 'K', 'M', 'S', 'W', 'U',
                '-', 'n',
            ]),
            0..400,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn translation_matches_a_plain_codon_table(seq in dna_with_iupac(), offset in 0usize..3) {
            let upper = seq.to_ascii_uppercase();
            let ours = String::from_utf8(translate(upper.as_bytes(), offset)).unwrap();
            prop_assert_eq!(ours, reference_translate(&upper, offset));
        }

        #[test]
        fn reverse_complement_is_an_involution(seq in dna_with_iupac()) {
            let upper = seq.to_ascii_uppercase();
            let mut once = Vec::new();
            let mut twice = Vec::new();
            reverse_complement_into(upper.as_bytes(), &mut once);
            reverse_complement_into(&once, &mut twice);
            prop_assert_eq!(twice, upper.as_bytes());
            prop_assert_eq!(String::from_utf8(once).unwrap(), reference_revcomp(&upper));
        }

        #[test]
        fn kept_frames_match_the_reference_selection(seq in dna_with_iupac()) {
            let ours: Vec<_> = kept_frames(seq.as_bytes())
                .into_iter()
                .map(|f| (f.frame.suffix().to_string(), String::from_utf8(f.nucleotide).unwrap(), String::from_utf8(f.protein).unwrap()))
                .collect();
            prop_assert_eq!(ours, reference_kept(&seq));
        }
    }
}
