//! The fixed 33-token ESM-2 alphabet and fair-esm's sequence encoder.
//!
//! VirNucPro tokenised with fair-esm's `BatchConverter` (no truncation), so this encoder
//! reproduces that, not Hugging Face's `EsmTokenizer`: an unknown character (lower case, `*`,
//! `J`, ...) is an error where HF would silently emit `<unk>`; whitespace anywhere is dropped;
//! the special tokens (`<mask>`, `<unk>`, ...) written in the text are single tokens.

/// fair-esm's `Alphabet.from_architecture("ESM-1b")` in id order.
const TOKENS: [&str; 33] = [
    "<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K",
    "Q", "N", "F", "Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>",
    "<mask>",
];

/// A character that no ESM-2 token starts with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("character {character:?} at position {position} is not in the ESM-2 alphabet")]
pub struct AlphabetError {
    pub character: char,
    /// 1-based, counted in characters of the sequence text as given.
    pub position: usize,
}

/// The ESM-2 alphabet (identical for every model size).
#[derive(Debug, Clone, Copy, Default)]
pub struct Alphabet;

impl Alphabet {
    pub const CLS: i64 = 0;
    pub const PAD: i64 = 1;
    pub const EOS: i64 = 2;
    pub const UNK: i64 = 3;
    pub const MASK: i64 = 32;
    /// Number of token ids (rows of the embedding matrix).
    pub const SIZE: usize = TOKENS.len();

    pub fn new() -> Self {
        Self
    }

    /// The token text of `id`, if it is one.
    pub fn token(id: i64) -> Option<&'static str> {
        usize::try_from(id)
            .ok()
            .and_then(|i| TOKENS.get(i).copied())
    }

    /// The id of a token text (`"A"`, `"<mask>"`, ...).
    pub fn id(token: &str) -> Option<i64> {
        TOKENS.iter().position(|t| *t == token).map(|i| i as i64)
    }

    /// `<cls>` + the tokens of `seq` + `<eos>`, as fair-esm's batch converter builds a row.
    pub fn encode(&self, seq: &str) -> Result<Vec<i64>, AlphabetError> {
        let mut ids = Vec::with_capacity(seq.len() + 2);
        ids.push(Self::CLS);
        let mut rest = seq;
        let mut position = 0;
        while let Some(c) = rest.chars().next() {
            position += 1;
            // Special tokens are the only multi-character ones; they all start with '<' and
            // none contains another, so a greedy match equals fair-esm's split-on-tokens.
            let special = (c == '<')
                .then(|| {
                    TOKENS
                        .iter()
                        .enumerate()
                        .find(|(_, t)| t.len() > 1 && rest.starts_with(**t))
                })
                .flatten();
            if let Some((id, token)) = special {
                ids.push(id as i64);
                rest = &rest[token.len()..];
                position += token.chars().count() - 1;
                continue;
            }
            rest = &rest[c.len_utf8()..];
            if is_python_whitespace(c) {
                continue;
            }
            match residue_id(c) {
                Some(id) => ids.push(id),
                None => {
                    return Err(AlphabetError {
                        character: c,
                        position,
                    })
                }
            }
        }
        ids.push(Self::EOS);
        Ok(ids)
    }
}

/// The id of a one-character token.
fn residue_id(c: char) -> Option<i64> {
    TOKENS
        .iter()
        .position(|t| t.len() == 1 && t.starts_with(c))
        .map(|i| i as i64)
}

/// Python's `str.isspace`, which fair-esm's `split()`/`strip()` use to drop whitespace: Rust's
/// `char::is_whitespace` plus the ASCII separators U+001C..U+001F.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(seq: &str) -> Result<Vec<i64>, AlphabetError> {
        Alphabet::new().encode(seq)
    }

    #[test]
    fn ids_follow_fair_esm_order() {
        assert_eq!(Alphabet::SIZE, 33);
        for (id, token) in [
            (Alphabet::CLS, "<cls>"),
            (Alphabet::PAD, "<pad>"),
            (Alphabet::EOS, "<eos>"),
            (Alphabet::UNK, "<unk>"),
            (4, "L"),
            (15, "K"),
            (17, "N"),
            (28, "O"),
            (30, "-"),
            (31, "<null_1>"),
            (Alphabet::MASK, "<mask>"),
        ] {
            assert_eq!(Alphabet::token(id), Some(token));
            assert_eq!(Alphabet::id(token), Some(id));
        }
        assert_eq!(Alphabet::token(33), None);
        assert_eq!(Alphabet::token(-1), None);
    }

    #[test]
    fn encodes_residues_between_cls_and_eos() {
        assert_eq!(
            encode("MKTAYIAKQR").unwrap(),
            [0, 20, 15, 11, 5, 19, 12, 5, 15, 16, 10, 2]
        );
        assert_eq!(
            encode("MKXBZUOLAGXXV").unwrap(),
            [0, 20, 15, 24, 25, 27, 26, 28, 4, 5, 6, 24, 24, 7, 2]
        );
        assert_eq!(encode("").unwrap(), [0, 2]);
        assert_eq!(encode(".-").unwrap(), [0, 29, 30, 2]);
    }

    #[test]
    fn special_tokens_in_the_text_are_single_tokens() {
        assert_eq!(
            encode("MKT<mask>YIAKQR").unwrap(),
            [0, 20, 15, 11, 32, 19, 12, 5, 15, 16, 10, 2]
        );
        assert_eq!(encode("MK<unk>V").unwrap(), [0, 20, 15, 3, 7, 2]);
        assert_eq!(encode("<null_1><cls>").unwrap(), [0, 31, 0, 2]);
    }

    #[test]
    fn whitespace_is_dropped_like_python_split() {
        assert_eq!(encode("MK V").unwrap(), [0, 20, 15, 7, 2]);
        assert_eq!(
            encode("MKTAYIAKQR\n").unwrap(),
            [0, 20, 15, 11, 5, 19, 12, 5, 15, 16, 10, 2]
        );
        assert_eq!(encode("\tM\r\n\u{1f}K\u{a0}").unwrap(), [0, 20, 15, 2]);
    }

    #[test]
    fn unknown_characters_name_char_and_position() {
        let err = |seq, character, position| {
            assert_eq!(
                encode(seq),
                Err(AlphabetError {
                    character,
                    position
                }),
                "{seq:?}"
            )
        };
        err("mkv", 'm', 1);
        err("MK*V", '*', 3);
        err("MKJV", 'J', 3);
        // Positions count characters, also after a multi-character token or a non-ASCII one.
        err("<mask>Mé", 'é', 8);
        err("é", 'é', 1);
        // An unfinished special token is not one.
        err("M<mask", '<', 2);
        err("M<>", '<', 2);
        let text = encode("MK*V").unwrap_err().to_string();
        assert!(
            text.contains("'*'") && text.contains("position 3"),
            "{text}"
        );
    }
}
