//! Bounds-checked reading of opcode operands.
use super::error::PickleErrorKind as Kind;

pub(crate) struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes; checked against what is left before anything is allocated.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], Kind> {
        let n = usize::try_from(n).map_err(|_| Kind::UnexpectedEof)?;
        let end = self.pos.checked_add(n).ok_or(Kind::UnexpectedEof)?;
        let bytes = self.data.get(self.pos..end).ok_or(Kind::UnexpectedEof)?;
        self.pos = end;
        Ok(bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Kind> {
        let bytes = self.take(N as u64)?;
        <[u8; N]>::try_from(bytes).map_err(|_| Kind::UnexpectedEof)
    }

    pub fn u8(&mut self) -> Result<u8, Kind> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, Kind> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, Kind> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, Kind> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, Kind> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A text operand up to (not including) the next newline, as used by protocol 0.
    pub fn line(&mut self, opcode: &'static str) -> Result<&'a str, Kind> {
        let rest = self.data.get(self.pos..).ok_or(Kind::UnexpectedEof)?;
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(Kind::UnexpectedEof)?;
        let line = self.take(len as u64)?;
        self.pos += 1;
        std::str::from_utf8(line).map_err(|_| Kind::BadText(opcode))
    }

    /// A UTF-8 string of `n` bytes.
    pub fn utf8(&mut self, n: u64) -> Result<String, Kind> {
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Kind::InvalidUtf8)
    }
}
