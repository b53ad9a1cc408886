//! Loading model weights from the files scientists have on disk, tensor by tensor, straight
//! to the device and dtype the model runs in.
//!
//! A [`Checkpoint`] is opened from a single file (`.safetensors`, or a `torch.save` archive
//! such as `pytorch_model.bin` or a fair-esm `.pt`), from a sharded checkpoint's
//! `*.index.json`, or from a Hugging Face model folder holding one of those. Opening reads
//! only the headers (safetensors) or the pickle (torch, run in the safe VM of
//! `virnucpro_core::pickle`, so nothing in the file is executed). Tensor data is read only
//! when [`Checkpoint::load`] asks for it, by positional reads into the tensor's own buffer,
//! so loading needs about one model's worth of memory plus one tensor.
//!
//! Models check the whole key set first ([`Checkpoint::check_keys`]), so a wrong file is
//! reported with every missing, unexpected and mis-shaped key at once, before anything is
//! read.
mod error;
mod resolve;
mod safetensors_file;
mod torch_file;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use virnucpro_core::pickle::{TensorRef, Value};

pub use error::{ShapeMismatch, WeightError};
pub use resolve::{WeightFormat, FOLDER_CANDIDATES};

use resolve::Resolved;
use safetensors_file::SafeFile;
use torch_file::TorchFile;

/// Shape and stored element type of one tensor of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub shape: Vec<i64>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
enum Location {
    Safe { file: usize, offset: u64, len: u64 },
    Torch { file: usize, tensor: TensorRef },
}

#[derive(Debug, Clone)]
struct Entry {
    info: TensorInfo,
    location: Location,
}

/// An opened checkpoint: the names, shapes and dtypes of its tensors, and the open files
/// their data is read from.
pub struct Checkpoint {
    path: PathBuf,
    format: WeightFormat,
    files: Vec<PathBuf>,
    bytes: u64,
    safe_files: Vec<SafeFile>,
    torch_files: Vec<TorchFile>,
    entries: BTreeMap<String, Entry>,
    /// Tensors stored in a dtype libtorch cannot hold: name → (file, dtype).
    unsupported: BTreeMap<String, (PathBuf, String)>,
}

impl Checkpoint {
    /// Open a weight file, a sharded checkpoint index, or a model folder.
    pub fn open(path: &Path) -> Result<Self, WeightError> {
        let Resolved {
            format,
            files,
            weight_map,
        } = resolve::resolve(path)?;
        let mut checkpoint = Self {
            path: path.to_path_buf(),
            format,
            files: files.clone(),
            bytes: 0,
            safe_files: Vec::new(),
            torch_files: Vec::new(),
            entries: BTreeMap::new(),
            unsupported: BTreeMap::new(),
        };
        for file in &files {
            checkpoint.bytes += std::fs::metadata(file)
                .map_err(|source| WeightError::Io {
                    path: file.clone(),
                    source,
                })?
                .len();
            match format {
                WeightFormat::Safetensors | WeightFormat::ShardedSafetensors => {
                    checkpoint.add_safetensors(file)?
                }
                WeightFormat::TorchPickle | WeightFormat::ShardedTorchPickle => {
                    checkpoint.add_torch(file)?
                }
            }
        }
        if let Some(map) = weight_map {
            checkpoint.check_weight_map(&map)?;
        }
        tracing::debug!(
            path = %path.display(),
            format = format.as_str(),
            files = files.len(),
            tensors = checkpoint.entries.len(),
            "opened checkpoint"
        );
        Ok(checkpoint)
    }

    fn insert(&mut self, file: &Path, name: String, entry: Entry) -> Result<(), WeightError> {
        if self.entries.insert(name.clone(), entry).is_some() {
            return Err(WeightError::Format {
                path: file.to_path_buf(),
                reason: format!("tensor {name} is stored twice"),
            });
        }
        Ok(())
    }

    fn add_safetensors(&mut self, path: &Path) -> Result<(), WeightError> {
        let (file, tensors) = SafeFile::open(path)?;
        let index = self.safe_files.len();
        self.safe_files.push(file);
        for (name, entry) in tensors {
            match entry {
                Ok(e) => {
                    let entry = Entry {
                        info: TensorInfo {
                            shape: e.shape,
                            kind: e.kind,
                        },
                        location: Location::Safe {
                            file: index,
                            offset: e.offset,
                            len: e.len,
                        },
                    };
                    self.insert(path, name, entry)?;
                }
                Err(dtype) => {
                    self.unsupported.insert(name, (path.to_path_buf(), dtype));
                }
            }
        }
        Ok(())
    }

    fn add_torch(&mut self, path: &Path) -> Result<(), WeightError> {
        let (file, tensors) = TorchFile::open(path)?;
        let index = self.torch_files.len();
        self.torch_files.push(file);
        for (name, tensor) in tensors {
            let Some(kind) = torch_file::kind_of(tensor.storage.dtype) else {
                self.unsupported
                    .insert(name, (path.to_path_buf(), tensor.storage.class.clone()));
                continue;
            };
            let shape = tensor
                .shape
                .iter()
                .map(|&d| i64::try_from(d))
                .collect::<Result<Vec<i64>, _>>()
                .map_err(|_| WeightError::Format {
                    path: path.to_path_buf(),
                    reason: format!("tensor {name} has a dimension too large"),
                })?;
            let entry = Entry {
                info: TensorInfo { shape, kind },
                location: Location::Torch {
                    file: index,
                    tensor,
                },
            };
            self.insert(path, name, entry)?;
        }
        Ok(())
    }

    /// Every tensor the index names must be in the shard it names.
    fn check_weight_map(&self, map: &BTreeMap<String, PathBuf>) -> Result<(), WeightError> {
        for (name, shard) in map {
            let in_shard = match self.entries.get(name).map(|e| &e.location) {
                Some(Location::Safe { file, .. }) => self.safe_files[*file].path == *shard,
                Some(Location::Torch { file, .. }) => {
                    self.torch_files[*file].archive.path() == shard
                }
                None => false,
            };
            if !in_shard {
                return Err(WeightError::Index {
                    path: self.path.clone(),
                    reason: format!(
                        "tensor {name} is not in {}, the shard the index names",
                        shard.display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The path this checkpoint was opened from (file, index or folder).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> WeightFormat {
        self.format
    }

    /// The weight files read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Total size of the weight files in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.bytes
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.entries.get(name).map(|e| &e.info)
    }

    /// The unpickled root object of the first torch file (fair-esm keeps its model
    /// configuration there), `None` for safetensors.
    pub fn pickle_root(&self) -> Option<&Value> {
        self.torch_files.first().map(|f| &f.root)
    }

    /// Keep only the tensors whose names start with `prefix`, with the prefix removed
    /// (`bert.`, `esm.`, `model.encoder.sentence_encoder.`).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.entries = strip_prefix(std::mem::take(&mut self.entries), prefix);
        self.unsupported = strip_prefix(std::mem::take(&mut self.unsupported), prefix);
        self
    }

    /// Compare the checkpoint with the tensors a model needs, before reading any data.
    /// Names that are neither expected nor `ignore`d are unexpected. Every problem is
    /// listed in the one error.
    pub fn check_keys(
        &self,
        expected: &[(String, Vec<i64>)],
        ignore: &dyn Fn(&str) -> bool,
    ) -> Result<(), WeightError> {
        let mut missing = Vec::new();
        let mut mismatched = Vec::new();
        for (name, shape) in expected {
            match self.entries.get(name) {
                Some(e) if e.info.shape != *shape => mismatched.push(ShapeMismatch {
                    name: name.clone(),
                    expected: shape.clone(),
                    found: e.info.shape.clone(),
                }),
                Some(_) => {}
                None => match self.unsupported.get(name) {
                    Some((_, dtype)) => missing.push(format!("{name} (stored as {dtype})")),
                    None => missing.push(name.clone()),
                },
            }
        }
        let wanted: HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
        let unexpected: Vec<String> = self
            .entries
            .keys()
            .chain(self.unsupported.keys())
            .filter(|name| !wanted.contains(name.as_str()) && !ignore(name))
            .cloned()
            .collect();
        if missing.is_empty() && unexpected.is_empty() && mismatched.is_empty() {
            return Ok(());
        }
        Err(WeightError::Keys {
            path: self.path.clone(),
            missing,
            unexpected,
            mismatched,
        })
    }

    /// Read tensor `name` and return it as `kind` on `device`. The data goes from the file
    /// into a buffer of its stored dtype, then to the device and dtype in one step; the
    /// host copy is freed on return.
    pub fn load(&self, name: &str, kind: Kind, device: Device) -> Result<Tensor, WeightError> {
        let entry = match self.entries.get(name) {
            Some(e) => e,
            None => return Err(self.absent(name)),
        };
        let stored = self.read_host(name, entry)?;
        if stored.kind() == kind && device == Device::Cpu {
            return Ok(stored);
        }
        stored
            .f_to_device_(device, kind, false, false)
            .map_err(|source| self.tch_error(name, source))
    }

    fn absent(&self, name: &str) -> WeightError {
        match self.unsupported.get(name) {
            Some((path, dtype)) => WeightError::UnsupportedDtype {
                path: path.clone(),
                name: name.to_owned(),
                dtype: dtype.clone(),
            },
            None => WeightError::MissingTensor {
                path: self.path.clone(),
                name: name.to_owned(),
            },
        }
    }

    fn tch_error(&self, name: &str, source: tch::TchError) -> WeightError {
        WeightError::Tch {
            path: self.path.clone(),
            name: name.to_owned(),
            source,
        }
    }

    /// The tensor in its stored dtype, in host memory.
    fn read_host(&self, name: &str, entry: &Entry) -> Result<Tensor, WeightError> {
        let kind = entry.info.kind;
        let tch = |e| self.tch_error(name, e);
        match &entry.location {
            Location::Safe { file, offset, len } => {
                let tensor = Tensor::f_empty(entry.info.shape.as_slice(), (kind, Device::Cpu))
                    .map_err(tch)?;
                let file = &self.safe_files[*file];
                fill(&tensor, *len, |buf| file.read_at(*offset, buf))
                    .map_err(|e| e.unwrap_or_else(|| self.size_error(name, &file.path)))?;
                Ok(tensor)
            }
            Location::Torch { file, tensor: view } => {
                let archive = &self.torch_files[*file].archive;
                let (first, end) = archive.element_span(view)?;
                let count = i64::try_from(end - first)
                    .map_err(|_| self.size_error(name, archive.path()))?;
                let flat = Tensor::f_empty([count], (kind, Device::Cpu)).map_err(tch)?;
                let bytes = (end - first) * kind.elt_size_in_bytes() as u64;
                fill(&flat, bytes, |buf| {
                    archive
                        .read_span_bytes(view, first, buf)
                        .map_err(WeightError::from)
                })
                .map_err(|e| e.unwrap_or_else(|| self.size_error(name, archive.path())))?;
                if view.is_contiguous() {
                    return flat.f_reshape(entry.info.shape.as_slice()).map_err(tch);
                }
                // A saved strided view (e.g. a transpose): lay it out over the span read,
                // then make it contiguous.
                let stride: Vec<i64> = view.stride.iter().map(|&s| s as i64).collect();
                flat.f_as_strided(entry.info.shape.as_slice(), stride.as_slice(), 0)
                    .and_then(|t| t.f_contiguous())
                    .map_err(tch)
            }
        }
    }

    fn size_error(&self, name: &str, path: &Path) -> WeightError {
        WeightError::Format {
            path: path.to_path_buf(),
            reason: format!("tensor {name}: the stored bytes do not match its shape and dtype"),
        }
    }
}

fn strip_prefix<V>(map: BTreeMap<String, V>, prefix: &str) -> BTreeMap<String, V> {
    map.into_iter()
        .filter_map(|(name, v)| Some((name.strip_prefix(prefix)?.to_owned(), v)))
        .collect()
}

/// Let `read` fill the host tensor's buffer directly (no intermediate copy). `Err(None)`
/// if the buffer is not exactly `bytes` long.
fn fill(
    tensor: &Tensor,
    bytes: u64,
    read: impl FnOnce(&mut [u8]) -> Result<(), WeightError>,
) -> Result<(), Option<WeightError>> {
    let size = tensor.numel() as u64 * tensor.kind().elt_size_in_bytes() as u64;
    if size != bytes {
        return Err(None);
    }
    if bytes == 0 {
        return Ok(());
    }
    let len = usize::try_from(bytes).map_err(|_| None)?;
    // SAFETY: `tensor` was just allocated by `Tensor::empty` on the CPU: contiguous, owned
    // by us alone, `len` bytes long (checked above), and alive for the whole borrow.
    let buf = unsafe { std::slice::from_raw_parts_mut(tensor.data_ptr() as *mut u8, len) };
    read(buf).map_err(Some)
}

// Stored tensors are little-endian; reading them into memory as-is assumes the host is too.
#[cfg(not(target_endian = "little"))]
compile_error!("weight loading assumes a little-endian host");
