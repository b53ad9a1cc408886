//! The zip central directory, read just far enough to locate entries. torch.save writes every
//! entry uncompressed (STORED), so an entry is a byte range of the file that can be read on
//! demand. Written here rather than taken from a zip crate so that every length read from the
//! file is checked against the file before use (the reader is fuzzed).
use super::error::TorchFileProblem as Problem;
use super::source::ByteSource;
use crate::file_kind::{FileKind, SNIFF_LEN};

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
const EOCD_LEN: u64 = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: u64 = 30;
/// The end record may be followed by a comment of at most this many bytes.
const MAX_COMMENT: u64 = 0xffff;
/// More entries than any checkpoint has; bounds the index built from a hostile directory.
const MAX_ENTRIES: u64 = 1 << 22;

/// Where one entry's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    pub name: String,
    /// Offset of the first byte of data (after the local header).
    pub data_start: u64,
    pub size: u64,
}

/// All entries of the archive, in directory order.
pub fn read_entries<S: ByteSource + ?Sized>(source: &S) -> Result<Vec<ZipEntry>, Problem> {
    let file_len = source.len();
    let mut head = [0u8; SNIFF_LEN];
    let head_len = file_len.min(SNIFF_LEN as u64) as usize;
    source.read_exact_at(0, &mut head[..head_len])?;
    match FileKind::sniff(&head[..head_len], file_len) {
        FileKind::TorchZip => {}
        other => return Err(Problem::NotZip(other)),
    }
    if file_len < EOCD_LEN {
        return Err(bad("the file is too short: the archive is cut short"));
    }
    let (eocd_at, eocd) = find_eocd(source)?;
    let mut count = u64::from(le16(&eocd, 10));
    let mut dir_size = u64::from(le32(&eocd, 12));
    let mut dir_start = u64::from(le32(&eocd, 16));
    if let Some(zip64) = read_zip64_end(source, eocd_at)? {
        (count, dir_size, dir_start) = zip64;
    }
    let dir_end = dir_start
        .checked_add(dir_size)
        .filter(|&end| end <= file_len)
        .ok_or_else(|| bad("the central directory lies outside the file"))?;
    if count > MAX_ENTRIES || count > dir_size / CENTRAL_LEN as u64 {
        return Err(bad(format!(
            "{count} entries cannot fit a {dir_size}-byte directory"
        )));
    }
    let dir = read_vec(source, dir_start, dir_end - dir_start)?;
    let mut entries = Vec::with_capacity(count as usize);
    let mut at = 0usize;
    for _ in 0..count {
        let (entry, next) = central_entry(source, &dir, at)?;
        entries.push(entry);
        at = next;
    }
    Ok(entries)
}

fn bad(why: impl Into<String>) -> Problem {
    Problem::BadZip(why.into())
}

fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn read_vec<S: ByteSource + ?Sized>(source: &S, at: u64, len: u64) -> Result<Vec<u8>, Problem> {
    let in_file = at.checked_add(len).is_some_and(|end| end <= source.len());
    if !in_file {
        return Err(bad("a record lies outside the file"));
    }
    let mut buf = vec![0u8; usize::try_from(len).map_err(|_| bad("record too large"))?];
    source.read_exact_at(at, &mut buf)?;
    Ok(buf)
}

/// The end-of-central-directory record: the last signature in the final 64 KiB.
fn find_eocd<S: ByteSource + ?Sized>(source: &S) -> Result<(u64, Vec<u8>), Problem> {
    let file_len = source.len();
    let tail_len = file_len.min(EOCD_LEN + MAX_COMMENT);
    let tail_start = file_len - tail_len;
    let tail = read_vec(source, tail_start, tail_len)?;
    let sig = EOCD_SIG.to_le_bytes();
    let pos = (0..=tail.len().saturating_sub(EOCD_LEN as usize))
        .rev()
        .find(|&i| tail.get(i..i + 4) == Some(&sig[..]))
        .ok_or_else(|| bad("no end-of-directory record: the archive is cut short or damaged"))?;
    let record = tail
        .get(pos..pos + EOCD_LEN as usize)
        .ok_or_else(|| bad("truncated end-of-directory record"))?
        .to_vec();
    Ok((tail_start + pos as u64, record))
}

/// `(entries, directory size, directory offset)` from the ZIP64 end record, if there is one.
fn read_zip64_end<S: ByteSource + ?Sized>(
    source: &S,
    eocd_at: u64,
) -> Result<Option<(u64, u64, u64)>, Problem> {
    let Some(locator_at) = eocd_at.checked_sub(20) else {
        return Ok(None);
    };
    let locator = read_vec(source, locator_at, 20)?;
    if le32(&locator, 0) != ZIP64_LOCATOR_SIG {
        return Ok(None);
    }
    let record = read_vec(source, le64(&locator, 8), 56)?;
    if le32(&record, 0) != ZIP64_EOCD_SIG {
        return Err(bad(
            "the ZIP64 locator does not point at a ZIP64 end record",
        ));
    }
    Ok(Some((
        le64(&record, 32),
        le64(&record, 40),
        le64(&record, 48),
    )))
}

/// One central-directory record at `dir[at..]`, and the offset of the next.
fn central_entry<S: ByteSource + ?Sized>(
    source: &S,
    dir: &[u8],
    at: usize,
) -> Result<(ZipEntry, usize), Problem> {
    let header = dir
        .get(at..at + CENTRAL_LEN)
        .ok_or_else(|| bad("truncated central directory"))?;
    if le32(header, 0) != CENTRAL_SIG {
        return Err(bad("bad central directory record signature"));
    }
    let flags = le16(header, 8);
    let method = le16(header, 10);
    let mut compressed = u64::from(le32(header, 20));
    let mut size = u64::from(le32(header, 24));
    let name_len = usize::from(le16(header, 28));
    let extra_len = usize::from(le16(header, 30));
    let comment_len = usize::from(le16(header, 32));
    let mut local_at = u64::from(le32(header, 42));
    let name_start = at + CENTRAL_LEN;
    let extra_start = name_start + name_len;
    let next = extra_start + extra_len + comment_len;
    let name_bytes = dir
        .get(name_start..extra_start)
        .ok_or_else(|| bad("truncated entry name"))?;
    let name = String::from_utf8_lossy(name_bytes).into_owned();
    let extra = dir
        .get(extra_start..extra_start + extra_len)
        .ok_or_else(|| bad("truncated extra field"))?;
    apply_zip64_extra(extra, &mut size, &mut compressed, &mut local_at)?;
    if flags & 1 != 0 {
        return Err(Problem::Encrypted(name));
    }
    if method != 0 {
        return Err(Problem::UnsupportedCompression {
            entry: name,
            method,
        });
    }
    if compressed != size {
        return Err(bad(format!("stored entry {name} has two different sizes")));
    }
    let data_start = local_data_start(source, local_at, &name)?;
    if data_start
        .checked_add(size)
        .is_none_or(|end| end > source.len())
    {
        return Err(bad(format!("entry {name} runs past the end of the file")));
    }
    Ok((
        ZipEntry {
            name,
            data_start,
            size,
        },
        next,
    ))
}

/// Replace saturated 32-bit fields with their 64-bit values from the ZIP64 extra field
/// (which lists, in this order, only the fields that are saturated).
fn apply_zip64_extra(
    mut extra: &[u8],
    size: &mut u64,
    compressed: &mut u64,
    local_at: &mut u64,
) -> Result<(), Problem> {
    while extra.len() >= 4 {
        let id = le16(extra, 0);
        let len = usize::from(le16(extra, 2));
        let body = extra
            .get(4..4 + len)
            .ok_or_else(|| bad("truncated extra field"))?;
        if id == 1 {
            let mut fields = body.chunks_exact(8).map(|c| le64(c, 0));
            for field in [size, compressed, local_at] {
                if *field == u64::from(u32::MAX) {
                    *field = fields
                        .next()
                        .ok_or_else(|| bad("ZIP64 extra field too short"))?;
                }
            }
            return Ok(());
        }
        extra = extra.get(4 + len..).unwrap_or_default();
    }
    Ok(())
}

fn local_data_start<S: ByteSource + ?Sized>(
    source: &S,
    local_at: u64,
    name: &str,
) -> Result<u64, Problem> {
    let header = read_vec(source, local_at, LOCAL_LEN)
        .map_err(|_| bad(format!("the local header of {name} lies outside the file")))?;
    if le32(&header, 0) != LOCAL_SIG {
        return Err(bad(format!("bad local header signature for {name}")));
    }
    let skip = LOCAL_LEN + u64::from(le16(&header, 26)) + u64::from(le16(&header, 28));
    local_at
        .checked_add(skip)
        .ok_or_else(|| bad("entry offset overflows"))
}
