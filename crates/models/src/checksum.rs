//! What a file's bytes must hash to: SHA-256, or a git blob id (SHA-1 over
//! `"blob {len}\0"` and the bytes), which is all GitHub publishes for plain files.
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// An expected digest, written `sha256:<64 hex>` or `git-sha1:<40 hex>` in catalogues.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Checksum {
    Sha256(String),
    GitBlobSha1(String),
}

impl Checksum {
    pub fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "sha256",
            Checksum::GitBlobSha1(_) => "git-sha1",
        }
    }

    pub fn hex(&self) -> &str {
        match self {
            Checksum::Sha256(hex) | Checksum::GitBlobSha1(hex) => hex,
        }
    }

    /// The same algorithm over the file at `path` (read whole).
    pub fn of_file(&self, path: &Path) -> io::Result<Checksum> {
        match self {
            Checksum::Sha256(_) => sha256_file(path).map(Checksum::Sha256),
            Checksum::GitBlobSha1(_) => git_blob_sha1_file(path).map(Checksum::GitBlobSha1),
        }
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm(), self.hex())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a checksum: {0:?} (expected sha256:<64 hex digits> or git-sha1:<40 hex digits>)")]
pub struct BadChecksum(String);

impl FromStr for Checksum {
    type Err = BadChecksum;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadChecksum(text.to_string());
        let (algorithm, hex) = text.split_once(':').ok_or_else(bad)?;
        let hex = hex.to_ascii_lowercase();
        let is_hex = |len: usize| hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit());
        match algorithm {
            "sha256" if is_hex(64) => Ok(Checksum::Sha256(hex)),
            "git-sha1" if is_hex(40) => Ok(Checksum::GitBlobSha1(hex)),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for Checksum {
    type Error = BadChecksum;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Checksum> for String {
    fn from(checksum: Checksum) -> String {
        checksum.to_string()
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a whole file, streamed.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    stream(path, |chunk| hasher.update(chunk))?;
    Ok(hex(&hasher.finalize()))
}

/// git's blob id of a whole file: the name the Hugging Face cache gives a non-LFS file.
pub fn git_blob_sha1_file(path: &Path) -> io::Result<String> {
    let len = std::fs::metadata(path)?.len();
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {len}\0").as_bytes());
    stream(path, |chunk| hasher.update(chunk))?;
    Ok(hex(&hasher.finalize()))
}

fn stream(path: &Path, mut feed: impl FnMut(&[u8])) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => feed(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_both_kinds() {
        let sha = format!("sha256:{}", "AB".repeat(32));
        let parsed: Checksum = sha.parse().unwrap();
        assert_eq!(parsed, Checksum::Sha256("ab".repeat(32)));
        assert_eq!(parsed.to_string(), format!("sha256:{}", "ab".repeat(32)));
        let git: Checksum = format!("git-sha1:{}", "0f".repeat(20)).parse().unwrap();
        assert_eq!(git.algorithm(), "git-sha1");
        for bad in [
            "",
            "sha256",
            "sha256:abc",
            "md5:00",
            &format!("git-sha1:{}", "zz".repeat(20)),
        ] {
            assert!(bad.parse::<Checksum>().is_err(), "{bad}");
        }
    }

    #[test]
    fn git_blob_id_matches_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello\n").unwrap();
        assert_eq!(
            git_blob_sha1_file(&path).unwrap(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            sha256_file(&path).unwrap(),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
    }
}
