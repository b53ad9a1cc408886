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

/// `{'proteins': ids, 'data': [tensor(len_i)]}`, each tensor over its own storage.
pub fn esm_pickle(ids: &[&str], class: &str, lens: &[i32]) -> Vec<u8> {
    let mut p = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("proteins")
        .str_list(ids)
        .str("data")
        .op(b']')
        .mark();
    for (i, &len) in lens.iter().enumerate() {
        p = p.tensor(class, &i.to_string(), len, 0, &[len], &[1]);
    }
    p.op(b'e').op(b'u').stop()
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

/// One tensor of a safetensors file: dtype tag, shape and raw little-endian bytes.
pub struct SafeTensor {
    pub dtype: String,
    pub shape: Vec<u64>,
    pub bytes: Vec<u8>,
}

impl SafeTensor {
    pub fn f32_values(&self) -> Vec<f32> {
        assert_eq!(self.dtype, "F32");
        self.bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }
}

/// All tensors of a `.safetensors` file (8-byte header length, JSON header, data).
pub fn read_safetensors(path: &std::path::Path) -> std::collections::BTreeMap<String, SafeTensor> {
    let file = std::fs::read(path).unwrap();
    let header_len = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&file[8..8 + header_len]).unwrap();
    let data = &file[8 + header_len..];
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .map(|(name, info)| {
            let offsets: Vec<usize> = info["data_offsets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let tensor = SafeTensor {
                dtype: info["dtype"].as_str().unwrap().to_owned(),
                shape: info["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect(),
                bytes: data[offsets[0]..offsets[1]].to_vec(),
            };
            (name.clone(), tensor)
        })
        .collect()
}

/// The expected values written by `scripts/torch_fixture_expected.py`.
pub fn expected() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/torch_fixtures_expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Sum in f64, front to back, as the Python script does.
pub fn sequential_sum(values: &[f32]) -> f64 {
    values.iter().fold(0.0f64, |acc, &v| acc + f64::from(v))
}

/// A float the Python script wrote as its `repr` string (exact, unlike a JSON number).
pub fn exact_f64(value: &serde_json::Value) -> f64 {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a repr string, got {value}"))
        .parse()
        .unwrap()
}
