//! A pickle virtual machine that builds inert [`Value`]s and never imports or calls anything.
use super::error::{PickleError, PickleErrorKind as Kind};
use super::globals::{self, Callable};
use super::input::Input;
use super::node::{container_depth, raise_depth, Budget, Memo, Node, NodeObject, Resolver};
use super::value::{Global, Value};

/// Bounds on what one pickle stream may make the VM do. Every opcode consumes input, so
/// together with these the work and memory are bounded by the input size.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest nesting of containers.
    pub max_depth: u32,
    /// Most values on the stack, counting those under MARKs.
    pub max_stack: usize,
    /// Most memo entries.
    pub max_memo: usize,
    /// Most values built when references are resolved; `None`: 1 Mi + 4 per input byte.
    pub max_values: Option<u64>,
    /// Most bytes of strings copied for shared references; `None`: 64 MiB + 4 per input byte.
    pub max_copied_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 256,
            max_stack: 1 << 24,
            max_memo: 1 << 26,
            max_values: None,
            max_copied_bytes: None,
        }
    }
}

/// Run the pickle in `data` and return the value it builds.
pub fn parse_pickle(data: &[u8], limits: &Limits) -> Result<Value, PickleError> {
    let len = data.len() as u64;
    let budget = Budget::new(
        limits
            .max_values
            .unwrap_or((1 << 20) + len.saturating_mul(4)),
        limits
            .max_copied_bytes
            .unwrap_or((64 << 20) + len.saturating_mul(4)),
    );
    let mut vm = Vm {
        input: Input::new(data),
        stack: Vec::new(),
        marks: Vec::new(),
        marked_items: 0,
        memo: Memo::new(limits.max_memo),
        budget,
        limits,
    };
    loop {
        let offset = vm.input.pos();
        match vm.step() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(kind) => return Err(PickleError::new(offset, kind)),
        }
    }
}

struct Vm<'a, 'l> {
    input: Input<'a>,
    stack: Vec<Node>,
    /// Stacks saved by MARK (Python's metastack).
    marks: Vec<Vec<Node>>,
    marked_items: usize,
    memo: Memo,
    budget: Budget,
    limits: &'l Limits,
}

impl Vm<'_, '_> {
    /// Execute one opcode; `Some` at STOP.
    fn step(&mut self) -> Result<Option<Value>, Kind> {
        let op = self.input.u8()?;
        match op {
            b'.' => {
                let top = self.pop("STOP")?;
                return self.resolve(top, true).map(Some);
            }
            0x80 => {
                let version = self.input.u8()?;
                if version > 5 {
                    return Err(Kind::UnsupportedProtocol(version));
                }
            }
            // FRAME only announces the size of what follows.
            0x95 => {
                self.input.u64()?;
            }
            b'(' => self.mark()?,
            b'0' => {
                if self.stack.pop().is_none() {
                    self.pop_mark("POP")?;
                }
            }
            b'1' => {
                self.pop_mark("POP_MARK")?;
            }

            // Scalars.
            b'N' => self.push_value(Value::None)?,
            0x88 => self.push_value(Value::Bool(true))?,
            0x89 => self.push_value(Value::Bool(false))?,
            b'J' => {
                let v = self.input.i32()?;
                self.push_value(Value::Int(v.into()))?
            }
            b'K' => {
                let v = self.input.u8()?;
                self.push_value(Value::Int(v.into()))?
            }
            b'M' => {
                let v = self.input.u16()?;
                self.push_value(Value::Int(v.into()))?
            }
            0x8a => {
                let n = self.input.u8()?;
                self.long(n.into())?
            }
            0x8b => {
                let n = self.input.i32()?;
                let n =
                    u64::try_from(n).map_err(|_| Kind::BadOperand("negative LONG4 size".into()))?;
                self.long(n)?
            }
            b'G' => {
                let v = f64::from_be_bytes(self.input.array()?);
                self.push_value(Value::Float(v))?
            }
            b'I' => {
                let text = self.input.line("INT")?;
                let value = match text {
                    "00" => Value::Bool(false),
                    "01" => Value::Bool(true),
                    _ => Value::Int(text.parse().map_err(|_| Kind::BadText("INT"))?),
                };
                self.push_value(value)?
            }
            b'L' => {
                let text = self.input.line("LONG")?;
                let digits = text.strip_suffix('L').unwrap_or(text);
                let v = digits.parse().map_err(|_| {
                    Kind::BadOperand("a protocol-0 LONG beyond 64 bits is not supported".into())
                })?;
                self.push_value(Value::Int(v))?
            }
            b'F' => {
                let text = self.input.line("FLOAT")?;
                let v = text.trim().parse().map_err(|_| Kind::BadText("FLOAT"))?;
                self.push_value(Value::Float(v))?
            }

            // Strings and bytes.
            b'X' => {
                let n = self.input.u32()?;
                self.push_str(n.into())?
            }
            0x8c => {
                let n = self.input.u8()?;
                self.push_str(n.into())?
            }
            0x8d => {
                let n = self.input.u64()?;
                self.push_str(n)?
            }
            b'B' => {
                let n = self.input.u32()?;
                self.push_bytes(n.into())?
            }
            b'C' => {
                let n = self.input.u8()?;
                self.push_bytes(n.into())?
            }
            0x8e | 0x96 => {
                let n = self.input.u64()?;
                self.push_bytes(n)?
            }
            // Python 2 `str`: text if it is UTF-8, bytes otherwise.
            b'T' => {
                let n = self.input.i32()?;
                let n = u64::try_from(n)
                    .map_err(|_| Kind::BadOperand("negative BINSTRING size".into()))?;
                self.push_py2_str(n)?
            }
            b'U' => {
                let n = self.input.u8()?;
                self.push_py2_str(n.into())?
            }

            // Containers.
            b']' => self.push(Node::List(Vec::new(), 1))?,
            b'}' => self.push(Node::Dict(Vec::new(), 1))?,
            b')' => self.push(Node::Tuple(Vec::new(), 1))?,
            0x8f => self.push(Node::Set(Vec::new(), 1))?,
            b'l' => {
                let items = self.pop_mark("LIST")?;
                let depth = container_depth(&items, self.limits.max_depth)?;
                self.push(Node::List(items, depth))?
            }
            b't' => {
                let items = self.pop_mark("TUPLE")?;
                self.push_tuple(items)?
            }
            0x91 => {
                let items = self.pop_mark("FROZENSET")?;
                let depth = container_depth(&items, self.limits.max_depth)?;
                self.push(Node::Set(items, depth))?
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let at = self
                    .stack
                    .len()
                    .checked_sub(n)
                    .ok_or(Kind::StackUnderflow { opcode: "TUPLEn" })?;
                let items = self.stack.split_off(at);
                self.push_tuple(items)?
            }
            b'd' => {
                let items = self.pop_mark("DICT")?;
                let pairs = pairs(items, "DICT")?;
                let mut dict = Node::Dict(Vec::new(), 1);
                insert_pairs(&mut dict, pairs, self.limits.max_depth)?;
                self.push(dict)?
            }
            b'a' => {
                let item = self.pop("APPEND")?;
                self.extend_top("APPEND", vec![item])?
            }
            b'e' => {
                let items = self.pop_mark("APPENDS")?;
                self.extend_top("APPENDS", items)?
            }
            0x90 => {
                let items = self.pop_mark("ADDITEMS")?;
                self.extend_top("ADDITEMS", items)?
            }
            b's' => {
                let value = self.pop("SETITEM")?;
                let key = self.pop("SETITEM")?;
                let max_depth = self.limits.max_depth;
                insert_pairs(self.top_mut("SETITEM")?, vec![(key, value)], max_depth)?
            }
            b'u' => {
                let items = self.pop_mark("SETITEMS")?;
                let pairs = pairs(items, "SETITEMS")?;
                let max_depth = self.limits.max_depth;
                insert_pairs(self.top_mut("SETITEMS")?, pairs, max_depth)?
            }

            // Memo.
            b'q' => {
                let id = self.input.u8()?;
                self.memo_put(id.into())?
            }
            b'r' => {
                let id = self.input.u32()?;
                self.memo_put(id)?
            }
            0x94 => {
                let id = u32::try_from(self.memo.len())
                    .map_err(|_| Kind::BadOperand("memo overflow".into()))?;
                self.memo_put(id)?
            }
            b'p' => {
                let id = self.text_memo_id("PUT")?;
                self.memo_put(id)?
            }
            b'h' => {
                let id = self.input.u8()?;
                let node = self.memo.get(id.into())?;
                self.push(node)?
            }
            b'j' => {
                let id = self.input.u32()?;
                let node = self.memo.get(id)?;
                self.push(node)?
            }
            b'g' => {
                let id = self.text_memo_id("GET")?;
                let node = self.memo.get(id)?;
                self.push(node)?
            }

            // Globals and calls.
            b'c' => {
                let module = self.input.line("GLOBAL")?.to_owned();
                let name = self.input.line("GLOBAL")?.to_owned();
                self.push_global(Global { module, name })?
            }
            0x93 => {
                let name = self.pop("STACK_GLOBAL")?;
                let module = self.pop("STACK_GLOBAL")?;
                let (Value::Str(module), Value::Str(name)) =
                    (self.resolve(module, false)?, self.resolve(name, false)?)
                else {
                    return Err(Kind::BadOperand("STACK_GLOBAL needs two strings".into()));
                };
                self.push_global(Global { module, name })?
            }
            b'R' => {
                let args = self.pop("REDUCE")?;
                let callable = self.pop("REDUCE")?;
                self.call(callable, args, Vec::new())?
            }
            0x81 => {
                let args = self.pop("NEWOBJ")?;
                let class = self.pop("NEWOBJ")?;
                self.call(class, args, Vec::new())?
            }
            0x92 => {
                let kwargs = self.pop("NEWOBJ_EX")?;
                let args = self.pop("NEWOBJ_EX")?;
                let class = self.pop("NEWOBJ_EX")?;
                let kwargs = match kwargs {
                    Node::Dict(pairs, _) => pairs,
                    other => match self.resolve(other, false)? {
                        Value::Dict(pairs) => pairs
                            .into_iter()
                            .map(|(k, v)| (Node::leaf(k), Node::leaf(v)))
                            .collect(),
                        _ => {
                            return Err(Kind::BadOperand(
                                "NEWOBJ_EX keyword arguments are not a dict".into(),
                            ))
                        }
                    },
                };
                self.call(class, args, kwargs)?
            }
            b'b' => {
                let state = self.pop("BUILD")?;
                let max_depth = self.limits.max_depth;
                build(self.top_mut("BUILD")?, state, max_depth)?
            }
            b'Q' => {
                let pid = self.pop("BINPERSID")?;
                let pid = self.resolve(pid, false)?;
                let storage = globals::storage_from_pid(pid)?;
                self.push_value(storage)?
            }

            b'2' => return Err(Kind::UnsupportedOpcode("DUP")),
            b'P' => return Err(Kind::UnsupportedOpcode("PERSID")),
            b'S' => return Err(Kind::UnsupportedOpcode("STRING")),
            b'V' => return Err(Kind::UnsupportedOpcode("UNICODE")),
            b'i' => return Err(Kind::UnsupportedOpcode("INST")),
            b'o' => return Err(Kind::UnsupportedOpcode("OBJ")),
            0x82..=0x84 => return Err(Kind::UnsupportedOpcode("EXT")),
            0x97 => return Err(Kind::UnsupportedOpcode("NEXT_BUFFER")),
            0x98 => return Err(Kind::UnsupportedOpcode("READONLY_BUFFER")),
            other => return Err(Kind::UnknownOpcode(other)),
        }
        Ok(None)
    }

    fn push(&mut self, node: Node) -> Result<(), Kind> {
        if self.stack.len() + self.marked_items >= self.limits.max_stack {
            return Err(Kind::LimitExceeded {
                what: "stack size",
                limit: self.limits.max_stack as u64,
            });
        }
        self.stack.push(node);
        Ok(())
    }

    fn push_value(&mut self, value: Value) -> Result<(), Kind> {
        self.push(Node::leaf(value))
    }

    fn pop(&mut self, opcode: &'static str) -> Result<Node, Kind> {
        self.stack.pop().ok_or(Kind::StackUnderflow { opcode })
    }

    fn mark(&mut self) -> Result<(), Kind> {
        if self.marks.len() >= self.limits.max_stack {
            return Err(Kind::LimitExceeded {
                what: "stack size",
                limit: self.limits.max_stack as u64,
            });
        }
        let saved = std::mem::take(&mut self.stack);
        self.marked_items += saved.len();
        self.marks.push(saved);
        Ok(())
    }

    /// Everything pushed since the last MARK, which is removed.
    fn pop_mark(&mut self, opcode: &'static str) -> Result<Vec<Node>, Kind> {
        let saved = self.marks.pop().ok_or(Kind::MissingMark { opcode })?;
        self.marked_items -= saved.len();
        Ok(std::mem::replace(&mut self.stack, saved))
    }

    /// The container on top of the stack, through memo references.
    fn top_mut(&mut self, opcode: &'static str) -> Result<&mut Node, Kind> {
        match self.stack.last_mut() {
            Some(Node::Ref(id)) => self.memo.target_mut(*id),
            Some(node) => Ok(node),
            None => Err(Kind::StackUnderflow { opcode }),
        }
    }

    fn extend_top(&mut self, opcode: &'static str, items: Vec<Node>) -> Result<(), Kind> {
        let max_depth = self.limits.max_depth;
        match self.top_mut(opcode)? {
            Node::List(list, depth) | Node::Set(list, depth) => {
                for item in items {
                    raise_depth(depth, item.depth(), max_depth)?;
                    list.push(item);
                }
                Ok(())
            }
            // Python would call the object's `append`/`extend`/`add`: code we do not run.
            other => Err(Kind::BadOperand(format!(
                "{opcode} to a {}",
                other.kind_name()
            ))),
        }
    }

    fn push_tuple(&mut self, items: Vec<Node>) -> Result<(), Kind> {
        let depth = container_depth(&items, self.limits.max_depth)?;
        self.push(Node::Tuple(items, depth))
    }

    fn push_str(&mut self, n: u64) -> Result<(), Kind> {
        let s = self.input.utf8(n)?;
        self.push_value(Value::Str(s))
    }

    fn push_bytes(&mut self, n: u64) -> Result<(), Kind> {
        let b = self.input.take(n)?.to_vec();
        self.push_value(Value::Bytes(b))
    }

    fn push_py2_str(&mut self, n: u64) -> Result<(), Kind> {
        let bytes = self.input.take(n)?.to_vec();
        let value = match String::from_utf8(bytes) {
            Ok(s) => Value::Str(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        };
        self.push_value(value)
    }

    /// LONG1/LONG4: little-endian two's complement of `n` bytes.
    fn long(&mut self, n: u64) -> Result<(), Kind> {
        let bytes = self.input.take(n)?;
        let value = if bytes.len() <= 8 {
            let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
            let mut buf = [if negative { 0xff } else { 0 }; 8];
            buf[..bytes.len()].copy_from_slice(bytes);
            Value::Int(i64::from_le_bytes(buf))
        } else {
            Value::BigInt(bytes.to_vec())
        };
        self.push_value(value)
    }

    fn text_memo_id(&mut self, opcode: &'static str) -> Result<u32, Kind> {
        self.input
            .line(opcode)?
            .parse()
            .map_err(|_| Kind::BadText(opcode))
    }

    fn memo_put(&mut self, id: u32) -> Result<(), Kind> {
        let top = self.pop("PUT")?;
        let reference = self.memo.put(id, top)?;
        self.push(reference)
    }

    fn push_global(&mut self, global: Global) -> Result<(), Kind> {
        // Refuse dangerous names as soon as they appear, whether or not they are called.
        globals::classify(&global)?;
        self.push_value(Value::Global(Box::new(global)))
    }

    fn resolve(&mut self, node: Node, take_last: bool) -> Result<Value, Kind> {
        Resolver {
            memo: &mut self.memo,
            budget: &mut self.budget,
            max_depth: self.limits.max_depth,
            take_last,
        }
        .resolve(node)
    }

    /// REDUCE / NEWOBJ / NEWOBJ_EX: interpret a known callable, or record an inert object.
    fn call(&mut self, callable: Node, args: Node, kwargs: Vec<(Node, Node)>) -> Result<(), Kind> {
        let global = match callable {
            Node::Leaf(Value::Global(g), _) => *g,
            node @ Node::Ref(_) => match self.resolve(node, false)? {
                Value::Global(g) => *g,
                other => {
                    return Err(Kind::BadOperand(format!(
                        "cannot call a {}",
                        other.type_name()
                    )))
                }
            },
            other => {
                return Err(Kind::BadOperand(format!(
                    "cannot call a {}",
                    other.kind_name()
                )))
            }
        };
        let callable = globals::classify(&global)?;
        let max_depth = self.limits.max_depth;
        match callable {
            Callable::Class => {
                let args = self.argument_nodes(args)?;
                let mut depth = container_depth(&args, max_depth)?;
                for (k, v) in &kwargs {
                    raise_depth(&mut depth, k.depth().max(v.depth()), max_depth)?;
                }
                self.push(Node::Object(Box::new(NodeObject {
                    global,
                    args,
                    kwargs,
                    state: None,
                    depth,
                })))
            }
            Callable::Reconstructor => {
                let Value::Tuple(args) = self.resolve(args, false)? else {
                    return Err(Kind::BadOperand(
                        "_reconstructor arguments are not a tuple".into(),
                    ));
                };
                let mut args = args.into_iter();
                let (Some(Value::Global(class)), Some(_base), state) =
                    (args.next(), args.next(), args.next())
                else {
                    return Err(Kind::BadOperand(
                        "_reconstructor expects (class, base, state)".into(),
                    ));
                };
                globals::classify(&class)?;
                let args: Vec<Node> = state
                    .filter(|s| *s != Value::None)
                    .map(Node::leaf)
                    .into_iter()
                    .collect();
                let depth = container_depth(&args, max_depth)?;
                self.push(Node::Object(Box::new(NodeObject {
                    global: *class,
                    args,
                    kwargs: Vec::new(),
                    state: None,
                    depth,
                })))
            }
            known => {
                if !kwargs.is_empty() {
                    return Err(Kind::BadOperand(format!(
                        "{global} called with keyword arguments"
                    )));
                }
                let Value::Tuple(args) = self.resolve(args, false)? else {
                    return Err(Kind::BadOperand(format!(
                        "{global}: arguments are not a tuple"
                    )));
                };
                match globals::call(known, args)? {
                    // Kept as a node: SETITEMS may fill it afterwards.
                    Value::Dict(entries) => {
                        let mut dict = Node::Dict(Vec::new(), 1);
                        let entries = entries
                            .into_iter()
                            .map(|(k, v)| (Node::leaf(k), Node::leaf(v)))
                            .collect();
                        insert_pairs(&mut dict, entries, max_depth)?;
                        self.push(dict)
                    }
                    value => self.push_value(value),
                }
            }
        }
    }

    /// Constructor arguments as nodes; a shared tuple is copied.
    fn argument_nodes(&mut self, args: Node) -> Result<Vec<Node>, Kind> {
        match args {
            Node::Tuple(items, _) => Ok(items),
            other => match self.resolve(other, false)? {
                Value::Tuple(items) => Ok(items.into_iter().map(Node::leaf).collect()),
                v => Err(Kind::BadOperand(format!(
                    "constructor arguments are a {}, not a tuple",
                    v.type_name()
                ))),
            },
        }
    }
}

/// Key/value pairs from a flat run of stack items.
fn pairs(items: Vec<Node>, opcode: &'static str) -> Result<Vec<(Node, Node)>, Kind> {
    if !items.len().is_multiple_of(2) {
        return Err(Kind::BadOperand(format!(
            "{opcode} with an odd number of items"
        )));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut iter = items.into_iter();
    while let (Some(k), Some(v)) = (iter.next(), iter.next()) {
        out.push((k, v));
    }
    Ok(out)
}

/// Python's `d[k] = v` on a dict. A repeated key is kept as a second entry (lookups take the
/// last, as Python would); checking for duplicates would make large dicts quadratic.
fn insert_pairs(target: &mut Node, pairs: Vec<(Node, Node)>, max_depth: u32) -> Result<(), Kind> {
    let Node::Dict(entries, depth) = target else {
        // On any other object Python would call `__setitem__`: code we do not run.
        return Err(Kind::BadOperand(format!(
            "SETITEM on a {}",
            target.kind_name()
        )));
    };
    for (k, v) in pairs {
        raise_depth(depth, k.depth().max(v.depth()), max_depth)?;
        entries.push((k, v));
    }
    Ok(())
}

/// BUILD: set an object's state (its `__dict__`, as `__setstate__` would receive it).
fn build(target: &mut Node, state: Node, max_depth: u32) -> Result<(), Kind> {
    match target {
        Node::Object(o) => {
            raise_depth(&mut o.depth, state.depth(), max_depth)?;
            o.state = Some(state);
            Ok(())
        }
        // Attributes of a dict subclass (a state dict's `_metadata`) or of a tensor subclass
        // do not change the data we read.
        Node::Dict(..) | Node::Leaf(Value::Tensor(_), _) => {
            tracing::debug!("ignoring BUILD state on a {}", target.kind_name());
            Ok(())
        }
        other => Err(Kind::BadOperand(format!(
            "BUILD on a {}",
            other.kind_name()
        ))),
    }
}
