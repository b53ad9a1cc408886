//! The pickle entry read in pieces from the archive's source, so a 70 MB DNABERT-S pickle
//! never sits in memory whole.
use crate::pickle::ByteSource;

use super::Decline;

/// Bytes read from the source at a time.
const CHUNK: usize = 256 << 10;
/// Longest text operand (GLOBAL's module and name lines) the decoder reads.
const MAX_LINE: usize = 1 << 10;

pub(super) struct Stream<'a, S: ByteSource + ?Sized> {
    source: &'a S,
    /// Source offset of the first byte not yet in `buf`.
    next: u64,
    /// Source offset just past the entry.
    end: u64,
    buf: Vec<u8>,
    /// `buf[pos..len]` is read but not yet consumed.
    pos: usize,
    len: usize,
}

impl<'a, S: ByteSource + ?Sized> Stream<'a, S> {
    pub fn new(source: &'a S, start: u64, size: u64) -> Self {
        Self {
            source,
            next: start,
            end: start.saturating_add(size),
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
        }
    }

    /// Bytes of the entry not yet consumed.
    pub fn remaining(&self) -> u64 {
        (self.len - self.pos) as u64 + (self.end - self.next)
    }

    /// Make `n` bytes available at `pos`, or decline if the entry ends first.
    fn fill(&mut self, n: usize) -> Result<(), Decline> {
        if self.len - self.pos >= n {
            return Ok(());
        }
        if n as u64 > self.remaining() {
            return Err(Decline::new("the pickle ends in the middle of an opcode"));
        }
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        let room = (self.buf.len() - self.len) as u64;
        let want = room.min(self.end - self.next) as usize;
        let target = &mut self.buf[self.len..self.len + want];
        self.source
            .read_exact_at(self.next, target)
            .map_err(|e| Decline::new(format!("cannot read the pickle: {e}")))?;
        self.next += want as u64;
        self.len += want;
        Ok(())
    }

    pub fn take(&mut self, n: usize) -> Result<&[u8], Decline> {
        self.fill(n)?;
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Decline> {
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).map_err(|_| Decline::new("short read"))
    }

    pub fn u8(&mut self) -> Result<u8, Decline> {
        Ok(self.array::<1>()?[0])
    }

    /// A protocol-0 text operand up to the next newline (GLOBAL's module and name).
    pub fn line(&mut self) -> Result<&str, Decline> {
        self.fill(self.remaining().min(MAX_LINE as u64) as usize)?;
        let avail = &self.buf[self.pos..self.len];
        let end = avail
            .iter()
            .take(MAX_LINE)
            .position(|&b| b == b'\n')
            .ok_or_else(|| Decline::new("a text operand without a newline nearby"))?;
        let line = std::str::from_utf8(&avail[..end])
            .map_err(|_| Decline::new("a text operand that is not UTF-8"))?;
        self.pos += end + 1;
        Ok(line)
    }

    /// Consecutive BINFLOAT opcodes, converted as the general decoder converts them
    /// (`f64` → `f32`) and appended to `out`; returns how many. The hot loop of a
    /// DNABERT-S file: 9 bytes per value, no value built.
    pub fn floats(&mut self, out: &mut Vec<f32>) -> Result<usize, Decline> {
        let mut count = 0;
        loop {
            let avail = &self.buf[self.pos..self.len];
            let mut used = 0;
            for op in avail.chunks_exact(9) {
                if op[0] != b'G' {
                    break;
                }
                let bits = [op[1], op[2], op[3], op[4], op[5], op[6], op[7], op[8]];
                out.push(f64::from_be_bytes(bits) as f32);
                used += 9;
            }
            self.pos += used;
            count += used / 9;
            let left = self.len - self.pos;
            // Stop at another opcode, or when the entry holds no further whole BINFLOAT.
            if left >= 9 || (left > 0 && self.buf[self.pos] != b'G') || self.remaining() < 9 {
                return Ok(count);
            }
            self.fill(9)?;
        }
    }
}
