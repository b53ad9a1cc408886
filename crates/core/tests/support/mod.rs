//! Builders for hand-made pickles and torch archives, so tests can state exactly which bytes
//! the reader gets. Independent of the reader: opcodes and zip records are written by hand.
#![allow(dead_code)]

use std::path::PathBuf;

/// Pickle opcodes, emitted in order.
#[derive(Default)]
pub struct Pickle(pub Vec<u8>);

impl Pickle {
    pub fn proto(v: u8) -> Self {
        Self(vec![0x80, v])
    }
    pub fn op(mut self, byte: u8) -> Self {
        self.0.push(byte);
        self
    }
    pub fn ops(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    pub fn mark(self) -> Self {
        self.op(b'(')
    }
    pub fn str(mut self, s: &str) -> Self {
        self.0.push(b'X');
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub fn int(mut self, v: i32) -> Self {
        self.0.push(b'J');
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn float(mut self, v: f64) -> Self {
        self.0.push(b'G');
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn global(mut self, module: &str, name: &str) -> Self {
        self.0.push(b'c');
        self.0
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
        self
    }
    pub fn put(self, id: u8) -> Self {
        self.ops(&[b'q', id])
    }
    pub fn get(self, id: u8) -> Self {
        self.ops(&[b'h', id])
    }
    pub fn tuple(self) -> Self {
        self.op(b't')
    }
    pub fn reduce(self) -> Self {
        self.op(b'R')
    }
    pub fn stop(self) -> Vec<u8> {
        self.op(b'.').0
    }

    /// `_rebuild_tensor_v2(storage(<class>, key, location, numel), offset, shape, stride,
    /// False, OrderedDict())`, leaving the tensor on the stack.
    pub fn tensor(
        self,
        class: &str,
        key: &str,
        numel: i32,
        offset: i32,
        shape: &[i32],
        stride: &[i32],
    ) -> Self {
        let mut p = self
            .global("torch._utils", "_rebuild_tensor_v2")
            .mark()
            .mark()
            .str("storage")
            .global("torch", class)
            .str(key)
            .str("cpu")
            .int(numel)
            .tuple()
            .op(b'Q')
            .int(offset)
            .mark();
        for &d in shape {
            p = p.int(d);
        }
        p = p.tuple().mark();
        for &s in stride {
            p = p.int(s);
        }
        p.tuple()
            .op(0x89)
            .global("collections", "OrderedDict")
            .op(b')')
            .reduce()
            .tuple()
            .reduce()
    }

    /// A list of strings.
    pub fn str_list(self, items: &[&str]) -> Self {
        let mut p = self.op(b']').mark();
        for s in items {
            p = p.str(s);
        }
        p.op(b'e')
    }
}

/// A zip archive with STORED entries, as torch.save writes it.
pub fn zip_stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with_method(entries, 0)
}

pub fn zip_with_method(entries: &[(&str, &[u8])], method: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let mut local = Vec::new();
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&[20, 0, 0, 0]);
        local.extend_from_slice(&method.to_le_bytes());
        local.extend_from_slice(&[0, 0, 0, 0]);
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&local);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0, 0, 0, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let dir_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&dir_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A torch-style archive `archive/data.pkl` + `archive/byteorder` + storages.
pub fn torch_archive(pickle: &[u8], storages: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let names: Vec<String> = storages
        .iter()
        .map(|(k, _)| format!("archive/data/{k}"))
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("archive/data.pkl", pickle),
        ("archive/byteorder", b"little"),
    ];
    for (name, (_, bytes)) in names.iter().zip(storages) {
        entries.push((name, bytes));
    }
    zip_stored(&entries)
}

pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Write `bytes` to a fresh file named `name` in a temporary folder.
pub fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
