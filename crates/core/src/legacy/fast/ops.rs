//! The opcodes of the streaming decoder, each with the general VM's meaning
//! (`crate::pickle::vm`) on the values it accepts.
use std::rc::Rc;

use crate::pickle::{ByteSource, Dtype, StorageRef, TensorRef};

use super::{Decline, Dict, Known, List, Tuple, Val, Vm, MAX_MARKS, MAX_MEMO, NOT_SHAREABLE};

impl<S: ByteSource + ?Sized> Vm<'_, S> {
    /// Execute one opcode (STOP is handled by the caller).
    pub(super) fn step(&mut self, op: u8) -> Result<(), Decline> {
        match op {
            0x80 => {
                if self.input.u8()? > 5 {
                    return Err(Decline::new("a pickle protocol above 5"));
                }
            }
            // FRAME only announces the size of what follows.
            0x95 => {
                self.input.array::<8>()?;
            }
            b'(' => {
                if self.marks.len() >= MAX_MARKS {
                    return Err(Decline::new("more MARKs than the decoder accepts"));
                }
                self.marks.push(self.stack.len());
            }
            b'N' => self.push(Val::None)?,
            0x88 => self.push(Val::Bool(true))?,
            0x89 => self.push(Val::Bool(false))?,
            b'J' => {
                let v = i32::from_le_bytes(self.input.array()?);
                self.push(Val::Int(v.into()))?
            }
            b'K' => {
                let v = self.input.u8()?;
                self.push(Val::Int(v.into()))?
            }
            b'M' => {
                let v = u16::from_le_bytes(self.input.array()?);
                self.push(Val::Int(v.into()))?
            }
            0x8a => self.long1()?,
            b'G' => self.floats()?,
            b'X' => {
                let n = u32::from_le_bytes(self.input.array()?);
                self.string(n.into())?
            }
            0x8c => {
                let n = self.input.u8()?;
                self.string(n.into())?
            }
            0x8d => {
                let n = u64::from_le_bytes(self.input.array()?);
                self.string(n)?
            }
            _ => self.step_structure(op)?,
        }
        Ok(())
    }

    /// Containers, the memo and calls.
    fn step_structure(&mut self, op: u8) -> Result<(), Decline> {
        match op {
            b']' => {
                self.lists.push(List::default());
                self.push(Val::List(self.lists.len() - 1))
            }
            b'}' => {
                self.dicts.push(Dict::default());
                self.push(Val::Dict(self.dicts.len() - 1))
            }
            b')' => self.push_tuple(Vec::new()),
            b't' => {
                let items = self.pop_mark()?;
                self.push_tuple(items)
            }
            0x85..=0x87 => {
                let mut items = Vec::new();
                for _ in 0..(op - 0x84) {
                    items.push(self.pop_one()?);
                }
                items.reverse();
                self.push_tuple(items)
            }
            b'a' => {
                // A run of several floats stands for several items, of which APPEND takes one.
                let item = match self.pop()? {
                    Val::Floats { len, .. } if len > 1 => {
                        return Err(Decline::new("APPEND of one float out of a run"))
                    }
                    item => item,
                };
                self.append(vec![item])
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.append(items)
            }
            b's' => {
                let value = self.pop_one()?;
                let key = self.pop_one()?;
                self.set_items(vec![key, value])
            }
            b'u' => {
                let items = self.pop_mark()?;
                self.set_items(items)
            }
            b'q' => {
                let id = self.input.u8()?;
                self.put(id.into())
            }
            b'r' => {
                let id = u32::from_le_bytes(self.input.array()?);
                self.put(id.into())
            }
            0x94 => self.put(self.memo.len() as u64),
            b'h' => {
                let id = self.input.u8()?;
                self.get(id.into())
            }
            b'j' => {
                let id = u32::from_le_bytes(self.input.array()?);
                self.get(id.into())
            }
            b'c' => self.global(),
            b'R' => self.reduce(),
            b'Q' => self.persistent_id(),
            other => Err(Decline::new(format!("opcode 0x{other:02x}"))),
        }
    }

    /// LONG1: little-endian two's complement of up to 8 bytes.
    fn long1(&mut self) -> Result<(), Decline> {
        let n = usize::from(self.input.u8()?);
        if n > 8 {
            return Err(Decline::new("an integer wider than 64 bits"));
        }
        let bytes = self.input.take(n)?;
        let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
        let mut buf = [if negative { 0xff } else { 0 }; 8];
        buf[..n].copy_from_slice(bytes);
        self.push(Val::Int(i64::from_le_bytes(buf)))
    }

    /// A run of BINFLOATs (the first one's opcode already read) into the row buffer.
    fn floats(&mut self) -> Result<(), Decline> {
        if self.floats.capacity() == 0 {
            // Each float takes 9 bytes of the stream: reserve once for all of them.
            let most = usize::try_from(self.input.remaining() / 9).unwrap_or(0);
            self.floats.reserve_exact(most.saturating_add(1));
        }
        let start = self.floats.len();
        let first = f64::from_be_bytes(self.input.array()?) as f32;
        self.floats.push(first);
        let rest = self.input.floats(&mut self.floats)?;
        self.push(Val::Floats {
            start,
            len: rest + 1,
        })
    }

    fn string(&mut self, n: u64) -> Result<(), Decline> {
        if n > self.input.remaining() {
            return Err(Decline::new("a string longer than the rest of the pickle"));
        }
        let n = usize::try_from(n).map_err(|_| Decline::new("a string too long"))?;
        let bytes = self.input.take(n)?;
        let text =
            std::str::from_utf8(bytes).map_err(|_| Decline::new("a string that is not UTF-8"))?;
        let text: Rc<str> = Rc::from(text);
        self.push(Val::Str(text))
    }

    fn push_tuple(&mut self, items: Vec<Val>) -> Result<(), Decline> {
        if items.iter().any(|v| matches!(v, Val::Floats { .. })) {
            return Err(Decline::new("floats in a tuple"));
        }
        let depth = self.container_depth(1, &items)?;
        self.push(Val::Tuple(Rc::new(Tuple { items, depth })))
    }

    /// APPEND(S) to the list on top: floats extend its run of the row buffer, other values
    /// are kept as items.
    fn append(&mut self, items: Vec<Val>) -> Result<(), Decline> {
        let Val::List(id) = *self.top()? else {
            return Err(Decline::new("APPEND to something other than a list"));
        };
        let depth = self.container_depth(0, &items)?;
        let list = self
            .lists
            .get_mut(id)
            .ok_or_else(|| Decline::new("internal: unknown list"))?;
        list.depth = list.depth.max(depth);
        for item in items {
            match (item, &mut list.floats) {
                (Val::Floats { start, len }, None) if list.items.is_empty() => {
                    list.floats = Some((start, len))
                }
                (Val::Floats { start, len }, Some((s, l))) if *s + *l == start => *l += len,
                (Val::Floats { .. }, _) => {
                    return Err(Decline::new("a list whose floats are not one run"))
                }
                (_, Some(_)) => return Err(Decline::new("a list of floats and other values")),
                (value, None) => list.items.push(value),
            }
        }
        Ok(())
    }

    /// SETITEM(S) on the dict on top, from a flat run of keys and values.
    fn set_items(&mut self, items: Vec<Val>) -> Result<(), Decline> {
        if !items.len().is_multiple_of(2) {
            return Err(Decline::new("SETITEMS with an odd number of items"));
        }
        if items.iter().any(|v| matches!(v, Val::Floats { .. })) {
            return Err(Decline::new("a float as a dict key or value"));
        }
        let Val::Dict(id) = *self.top()? else {
            return Err(Decline::new("SETITEM on something other than a dict"));
        };
        let depth = self.container_depth(0, &items)?;
        let dict = self
            .dicts
            .get_mut(id)
            .ok_or_else(|| Decline::new("internal: unknown dict"))?;
        dict.depth = dict.depth.max(depth);
        let mut items = items.into_iter();
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            dict.entries.push((k, v));
        }
        Ok(())
    }

    /// PUT: memo ids are given out in order by every pickler, so the memo is a vector.
    /// Only values a GET may copy are kept ([`copy_cost`]); the others are recorded as not
    /// shareable, so that the tuples and tensors of an ESM file are freed once used.
    fn put(&mut self, id: u64) -> Result<(), Decline> {
        if id != self.memo.len() as u64 || self.memo.len() >= MAX_MEMO {
            return Err(Decline::new("memo ids out of order"));
        }
        let top = self.top()?;
        if matches!(top, Val::Floats { .. }) {
            return Err(Decline::new("a memoised float"));
        }
        let entry = if copy_cost(top).is_some() {
            self.shared.push(top.clone());
            u32::try_from(self.shared.len() - 1).unwrap_or(NOT_SHAREABLE)
        } else {
            NOT_SHAREABLE
        };
        self.memo.push(entry);
        Ok(())
    }

    /// GET, only of values that cannot change: a shared list or dict (which later opcodes
    /// could fill, or make recursive) is left to the general VM.
    fn get(&mut self, id: u64) -> Result<(), Decline> {
        let entry = *usize::try_from(id)
            .ok()
            .and_then(|i| self.memo.get(i))
            .ok_or_else(|| Decline::new("a memo entry read before it is written"))?;
        let value = self
            .shared
            .get(entry as usize)
            .ok_or_else(|| Decline::new("a shared reference to a container"))?
            .clone();
        let (nodes, bytes) =
            copy_cost(&value).ok_or_else(|| Decline::new("a shared reference to a container"))?;
        // The general VM copies what a reference names: stay within its budgets.
        self.budget.nodes = self
            .budget
            .nodes
            .checked_sub(nodes)
            .ok_or_else(|| Decline::new("more shared values than the budget"))?;
        self.budget.bytes = self
            .budget
            .bytes
            .checked_sub(bytes)
            .ok_or_else(|| Decline::new("more shared bytes than the budget"))?;
        self.push(value)
    }

    fn global(&mut self) -> Result<(), Decline> {
        let module = self.input.line()?.to_owned();
        let name = self.input.line()?;
        let known = match (module.as_str(), name) {
            ("torch._utils", "_rebuild_tensor_v2") => Known::RebuildTensorV2,
            ("collections", "OrderedDict") => Known::OrderedDict,
            ("torch", class) if is_float_storage(class) => Known::Storage(Rc::from(class)),
            _ => return Err(Decline::new(format!("global {module}.{name}"))),
        };
        self.push(Val::Global(known))
    }

    /// REDUCE of `OrderedDict()` or `_rebuild_tensor_v2(...)`.
    fn reduce(&mut self) -> Result<(), Decline> {
        let args = self.pop_one()?;
        let callable = self.pop_one()?;
        let (Val::Global(known), Val::Tuple(args)) = (callable, args) else {
            return Err(Decline::new(
                "REDUCE of something other than a known global",
            ));
        };
        match known {
            Known::OrderedDict if args.items.is_empty() => {
                self.dicts.push(Dict::default());
                self.push(Val::Dict(self.dicts.len() - 1))
            }
            Known::RebuildTensorV2 => {
                let tensor = rebuild_tensor(&args.items)?;
                self.push(Val::Tensor(Rc::new(tensor)))
            }
            _ => Err(Decline::new("a call the decoder does not interpret")),
        }
    }

    /// BINPERSID `("storage", torch.<Class>, key, location, numel)`.
    fn persistent_id(&mut self) -> Result<(), Decline> {
        let Val::Tuple(pid) = self.pop_one()? else {
            return Err(Decline::new("a persistent id that is not a tuple"));
        };
        let [Val::Str(tag), Val::Global(Known::Storage(class)), Val::Str(key), Val::Str(location), numel] =
            &pid.items[..]
        else {
            return Err(Decline::new("a persistent id of another shape"));
        };
        if &**tag != "storage" {
            return Err(Decline::new("a persistent id that is not a storage"));
        }
        let storage = StorageRef {
            key: key.to_string(),
            class: class.to_string(),
            dtype: Dtype::from_storage_class(class),
            location: location.to_string(),
            numel: non_negative(numel)?,
        };
        self.push(Val::Storage(Rc::new(storage)))
    }
}

/// What copying `value` costs the general VM (values, bytes), or `None` if a GET of it is
/// left to the general VM: containers (mutable), tensors and storages (`torch.save` never
/// shares them, and keeping them for a GET would keep every row's tensor alive).
fn copy_cost(value: &Val) -> Option<(u64, u64)> {
    Some(match value {
        Val::None | Val::Bool(_) | Val::Int(_) => (1, 0),
        Val::Str(s) => (1, s.len() as u64),
        // Module and name, as the general VM counts them, at most this long.
        Val::Global(_) => (1, 64),
        Val::Tuple(t) => t.items.iter().try_fold((1, 0), |(n, b), item| {
            copy_cost(item).map(|(n2, b2)| (n + n2, b + b2))
        })?,
        Val::Floats { .. } | Val::Storage(_) | Val::Tensor(_) | Val::List(_) | Val::Dict(_) => {
            return None
        }
    })
}

fn is_float_storage(class: &str) -> bool {
    matches!(
        Dtype::from_storage_class(class),
        Some(Dtype::F32 | Dtype::F16 | Dtype::BF16 | Dtype::F64)
    )
}

fn non_negative(value: &Val) -> Result<u64, Decline> {
    let int = match value {
        Val::Int(i) => *i,
        Val::Bool(b) => i64::from(*b),
        _ => return Err(Decline::new("a count or offset that is not an int")),
    };
    u64::try_from(int).map_err(|_| Decline::new("a negative count or offset"))
}

fn dims(value: &Val) -> Result<Vec<u64>, Decline> {
    let Val::Tuple(t) = value else {
        return Err(Decline::new("a tensor size or stride that is not a tuple"));
    };
    t.items.iter().map(non_negative).collect()
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks)`;
/// a seventh argument (metadata, or a dtype in `_v3`) is left to the general VM.
fn rebuild_tensor(args: &[Val]) -> Result<TensorRef, Decline> {
    let [Val::Storage(storage), offset, size, stride, _, _] = args else {
        return Err(Decline::new("_rebuild_tensor_v2 with other arguments"));
    };
    let (shape, stride) = (dims(size)?, dims(stride)?);
    if shape.len() != stride.len() {
        return Err(Decline::new("a tensor whose size and stride disagree"));
    }
    Ok(TensorRef {
        storage: (**storage).clone(),
        offset: non_negative(offset)?,
        shape,
        stride,
    })
}
