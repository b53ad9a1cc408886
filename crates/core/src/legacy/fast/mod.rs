//! The streaming decoder of the DNABERT-S and ESM layouts ([`super`]).
//!
//! A pickle VM restricted to what `torch.save` writes for these two files, with lean
//! values: strings are shared, containers are handles into tables, and a run of BINFLOAT
//! opcodes goes straight into the row buffer as one stack slot ([`Val::Floats`]). When the
//! stream stops, [`layout`] checks that the row buffer holds exactly the rows of `data`, in
//! order, and reads ESM tensors into it from the archive.
//!
//! Anything outside that subset — another opcode or global, a shared container, a value the
//! general decoder's limits might refuse — is a [`Decline`]: the general decoder then reads
//! the file, so what it would refuse is refused with its message. The subset is chosen so
//! that every stream accepted here is one the general VM also accepts, with the same tree.
mod layout;
mod ops;
mod stream;

use std::rc::Rc;

use crate::pickle::{ByteSource, StorageRef, TensorRef, TorchArchive, MAX_PICKLE_BYTES};

use super::{LegacyError, LegacyFeatures};
use stream::Stream;

/// Why the streaming decoder leaves a file to the general one.
#[derive(Debug)]
pub(super) struct Decline(String);

impl Decline {
    fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }
}

/// Deepest container nesting accepted (the general VM allows 256; DNABERT-S files nest 4).
const MAX_DEPTH: u32 = 16;
/// Most stack items (each float counted), marks and memo entries accepted: below the
/// general VM's limits, so that a stream accepted here is never refused there.
const MAX_STACK_ITEMS: usize = 1 << 22;
const MAX_MARKS: usize = 1 << 16;
const MAX_MEMO: usize = 1 << 24;
/// A memo entry whose value a GET may not copy (a container, tensor or storage).
const NOT_SHAREABLE: u32 = u32::MAX;

/// The globals the streaming decoder interprets (a subset of the general VM's allow-list).
#[derive(Debug, Clone, PartialEq)]
enum Known {
    RebuildTensorV2,
    OrderedDict,
    /// `torch.<name>`, a float storage class such as `FloatStorage`.
    Storage(Rc<str>),
}

/// A tuple, immutable once built.
#[derive(Debug)]
struct Tuple {
    items: Vec<Val>,
    depth: u32,
}

#[derive(Debug, Clone)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    /// `len` consecutive floats, stored at `start..start + len` of the row buffer; the slot
    /// stands for `len` stack items.
    Floats {
        start: usize,
        len: usize,
    },
    Str(Rc<str>),
    Global(Known),
    Tuple(Rc<Tuple>),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
    /// Index into [`Vm::lists`].
    List(usize),
    /// Index into [`Vm::dicts`].
    Dict(usize),
}

/// A list holds either values or one run of the row buffer, never both.
#[derive(Debug, Default)]
struct List {
    items: Vec<Val>,
    floats: Option<(usize, usize)>,
    depth: u32,
}

#[derive(Debug, Default)]
struct Dict {
    entries: Vec<(Val, Val)>,
    depth: u32,
}

/// Caps on what memo reads may make the general VM copy (its value and byte budgets).
struct Budget {
    nodes: u64,
    bytes: u64,
}

struct Vm<'a, S: ByteSource + ?Sized> {
    input: Stream<'a, S>,
    stack: Vec<Val>,
    /// Stack lengths at each MARK.
    marks: Vec<usize>,
    /// Stack items, each float of a run counted.
    items: usize,
    /// Memo id → index into `shared`, or [`NOT_SHAREABLE`].
    memo: Vec<u32>,
    /// The memoised values a GET may copy.
    shared: Vec<Val>,
    lists: Vec<List>,
    dicts: Vec<Dict>,
    /// The row buffer: every float of the stream, in stream order.
    floats: Vec<f32>,
    budget: Budget,
}

/// Decode `archive` if it holds a DNABERT-S or ESM layout this decoder reads: `Ok(Ok)` with
/// the features, `Ok(Err)` with the reason it declines, `Err` when the rows are read and
/// fail the checks both decoders share (the general decoder's error, word for word).
/// The rows go into `spare`, emptied first.
pub(super) fn decode<S: ByteSource>(
    archive: &TorchArchive<S>,
    spare: Vec<f32>,
) -> Result<Result<LegacyFeatures, String>, LegacyError> {
    let (start, size) = archive.pickle_span();
    if size > MAX_PICKLE_BYTES {
        return Ok(Err(
            "the pickle is larger than the general reader allows".into()
        ));
    }
    let mut vm = Vm::new(Stream::new(archive.source(), start, size), size, spare);
    let root = match vm.run() {
        Ok(root) => root,
        Err(Decline(reason)) => return Ok(Err(reason)),
    };
    match layout::read(archive, vm, root) {
        Ok(outcome) => outcome.map(Ok),
        Err(Decline(reason)) => Ok(Err(reason)),
    }
}

impl<'a, S: ByteSource + ?Sized> Vm<'a, S> {
    fn new(input: Stream<'a, S>, size: u64, mut floats: Vec<f32>) -> Self {
        floats.clear();
        Self {
            input,
            stack: Vec::new(),
            marks: Vec::new(),
            items: 0,
            memo: Vec::new(),
            shared: Vec::new(),
            lists: Vec::new(),
            dicts: Vec::new(),
            floats,
            budget: Budget {
                nodes: (1 << 20) + size.saturating_mul(3),
                bytes: (64 << 20) + size.saturating_mul(4),
            },
        }
    }

    /// Run to STOP and return the value on top of the stack.
    fn run(&mut self) -> Result<Val, Decline> {
        loop {
            let op = self.input.u8()?;
            if op == b'.' {
                return self.pop();
            }
            self.step(op)?;
        }
    }

    fn push(&mut self, value: Val) -> Result<(), Decline> {
        self.items += weight(&value);
        if self.items > MAX_STACK_ITEMS {
            return Err(Decline::new("more stack items than the decoder accepts"));
        }
        self.stack.push(value);
        Ok(())
    }

    /// The stack length at the last MARK: what lies below it is out of reach until the
    /// MARK is popped (the general VM saves that part away).
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<Val, Decline> {
        if self.stack.len() <= self.floor() {
            return Err(Decline::new("a pop from an empty stack"));
        }
        let value = self
            .stack
            .pop()
            .ok_or_else(|| Decline::new("a pop from an empty stack"))?;
        self.items -= weight(&value);
        Ok(value)
    }

    /// The value on top of the stack, if it is above the last MARK.
    fn top(&self) -> Result<&Val, Decline> {
        match self.stack.last() {
            Some(top) if self.stack.len() > self.floor() => Ok(top),
            _ => Err(Decline::new(
                "an opcode that needs a value on an empty stack",
            )),
        }
    }

    /// Pop a single value (not a run of floats, which stands for several).
    fn pop_one(&mut self) -> Result<Val, Decline> {
        match self.pop()? {
            Val::Floats { .. } => Err(Decline::new("a float where one value is expected")),
            value => Ok(value),
        }
    }

    /// Everything above the last MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Val>, Decline> {
        let at = self
            .marks
            .pop()
            .ok_or_else(|| Decline::new("an opcode that needs a MARK without one"))?;
        let items = self.stack.split_off(at.min(self.stack.len()));
        self.items -= items.iter().map(weight).sum::<usize>();
        Ok(items)
    }

    fn depth(&self, value: &Val) -> u32 {
        match value {
            Val::Tuple(t) => t.depth,
            Val::Tensor(_) => 1,
            Val::List(id) => self.lists.get(*id).map_or(0, |l| l.depth),
            Val::Dict(id) => self.dicts.get(*id).map_or(0, |d| d.depth),
            _ => 0,
        }
    }

    /// The depth of a container holding `children`, declining past [`MAX_DEPTH`].
    fn container_depth<'v>(
        &self,
        current: u32,
        children: impl IntoIterator<Item = &'v Val>,
    ) -> Result<u32, Decline> {
        let depth = children
            .into_iter()
            .map(|c| self.depth(c) + 1)
            .fold(current.max(1), u32::max);
        if depth > MAX_DEPTH {
            return Err(Decline::new(
                "containers nested deeper than the decoder accepts",
            ));
        }
        Ok(depth)
    }
}

/// How many stack items a slot stands for.
fn weight(value: &Val) -> usize {
    match value {
        Val::Floats { len, .. } => *len,
        _ => 1,
    }
}
