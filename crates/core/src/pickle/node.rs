//! The VM's working representation. Containers written to the memo are moved there and the
//! stack keeps a [`Node::Ref`], so that later mutations (APPENDS, SETITEMS, BUILD) reach every
//! reference, as in Python. References are replaced by copies only when the final value is
//! built ([`Resolver`]), under a node/byte budget, a depth limit and cycle detection.
use std::collections::HashMap;

use super::error::PickleErrorKind as Kind;
use super::value::{Global, Object, Value};

/// A value under construction. Every container carries its nesting depth so that the limit is
/// enforced as it grows (deep trees would overflow the call stack when dropped or walked).
pub(crate) enum Node {
    /// A finished value and its nesting depth.
    Leaf(Value, u32),
    /// A memo entry, by id.
    Ref(u32),
    List(Vec<Node>, u32),
    Tuple(Vec<Node>, u32),
    Dict(Vec<(Node, Node)>, u32),
    Set(Vec<Node>, u32),
    Object(Box<NodeObject>),
}

pub(crate) struct NodeObject {
    pub global: Global,
    pub args: Vec<Node>,
    pub kwargs: Vec<(Node, Node)>,
    pub state: Option<Node>,
    pub depth: u32,
}

impl Node {
    pub fn leaf(value: Value) -> Self {
        let depth = value_depth(&value);
        Node::Leaf(value, depth)
    }

    pub fn depth(&self) -> u32 {
        match self {
            Node::Ref(_) => 0,
            Node::Leaf(_, d)
            | Node::List(_, d)
            | Node::Tuple(_, d)
            | Node::Dict(_, d)
            | Node::Set(_, d) => *d,
            Node::Object(o) => o.depth,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Node::Leaf(v, _) => v.type_name(),
            Node::Ref(_) => "reference",
            Node::List(..) => "list",
            Node::Tuple(..) => "tuple",
            Node::Dict(..) => "dict",
            Node::Set(..) => "set",
            Node::Object(_) => "object",
        }
    }
}

/// Nesting depth of a finished value (0 for scalars). Values are built depth-limited, so
/// this recursion is bounded.
pub(crate) fn value_depth(value: &Value) -> u32 {
    let max_of = |items: &mut dyn Iterator<Item = &Value>| items.map(value_depth).max();
    let inner = match value {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => max_of(&mut items.iter()),
        Value::Dict(entries) => max_of(&mut entries.iter().flat_map(|(k, v)| [k, v])),
        Value::Object(o) => max_of(
            &mut o
                .args
                .iter()
                .chain(o.kwargs.iter().flat_map(|(k, v)| [k, v]))
                .chain(o.state.iter()),
        ),
        Value::Tensor(_) | Value::Storage(_) | Value::Global(_) => Some(0),
        _ => return 0,
    };
    inner.unwrap_or(0) + 1
}

/// Raise a container's depth for a new child, refusing to pass `limit`.
pub(crate) fn raise_depth(depth: &mut u32, child: u32, limit: u32) -> Result<(), Kind> {
    let needed = child.saturating_add(1);
    if needed > limit {
        return Err(Kind::LimitExceeded {
            what: "nesting depth",
            limit: limit.into(),
        });
    }
    *depth = (*depth).max(needed);
    Ok(())
}

/// Depth of a new container holding `children`.
pub(crate) fn container_depth<'a>(
    children: impl IntoIterator<Item = &'a Node>,
    limit: u32,
) -> Result<u32, Kind> {
    let mut depth = 1;
    for child in children {
        raise_depth(&mut depth, child.depth(), limit)?;
    }
    Ok(depth)
}

struct MemoEntry {
    /// `None` once the final resolution has moved it out.
    node: Option<Node>,
    /// Live [`Node::Ref`]s to this entry (an upper bound: dropped refs are not subtracted).
    refs: u64,
}

/// The pickle memo, bounded in size.
pub(crate) struct Memo {
    entries: HashMap<u32, MemoEntry>,
    limit: usize,
}

impl Memo {
    pub fn new(limit: usize) -> Self {
        Self {
            entries: HashMap::new(),
            limit,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Store `node` as entry `id` and return the reference that replaces it on the stack.
    pub fn put(&mut self, id: u32, mut node: Node) -> Result<Node, Kind> {
        if self.entries.contains_key(&id) {
            // CPython's pickler never reuses an id; honouring a rewrite would change what
            // earlier references mean, so refuse it.
            return Err(Kind::BadOperand(format!(
                "memo entry {id} is written twice"
            )));
        }
        if self.entries.len() >= self.limit {
            return Err(Kind::LimitExceeded {
                what: "memo size",
                limit: self.limit as u64,
            });
        }
        // Keep every entry at most one hop from its value: memoising a reference to an alias
        // stores a reference to the aliased entry. Chains would make each later mutation
        // walk them (quadratic time on a crafted stream).
        if let Node::Ref(alias) = node {
            if let Some(Node::Ref(target)) = self.entries.get(&alias).and_then(|e| e.node.as_ref())
            {
                let target = *target;
                if let Some(e) = self.entries.get_mut(&alias) {
                    e.refs = e.refs.saturating_sub(1);
                }
                if let Some(e) = self.entries.get_mut(&target) {
                    e.refs = e.refs.saturating_add(1);
                }
                node = Node::Ref(target);
            }
        }
        self.entries.insert(
            id,
            MemoEntry {
                node: Some(node),
                refs: 1,
            },
        );
        Ok(Node::Ref(id))
    }

    /// A new reference to entry `id` (BINGET).
    pub fn get(&mut self, id: u32) -> Result<Node, Kind> {
        let entry = self
            .entries
            .get_mut(&id)
            .ok_or(Kind::MissingMemo(id.into()))?;
        entry.refs = entry.refs.saturating_add(1);
        Ok(Node::Ref(id))
    }

    /// The container behind reference `id` (entries are at most one hop from a value).
    pub fn target_mut(&mut self, mut id: u32) -> Result<&mut Node, Kind> {
        if let Node::Ref(next) = self.node(id)? {
            id = *next;
        }
        match self.entries.get_mut(&id).and_then(|e| e.node.as_mut()) {
            Some(Node::Ref(_)) => Err(Kind::RecursiveStructure),
            Some(node) => Ok(node),
            None => Err(Kind::MissingMemo(id.into())),
        }
    }

    fn node(&self, id: u32) -> Result<&Node, Kind> {
        self.entries
            .get(&id)
            .and_then(|e| e.node.as_ref())
            .ok_or(Kind::MissingMemo(id.into()))
    }
}

/// Caps on what resolution may allocate: copies of shared values are where a small crafted
/// stream could otherwise expand exponentially.
pub(crate) struct Budget {
    nodes_left: u64,
    bytes_left: u64,
    node_limit: u64,
    byte_limit: u64,
}

impl Budget {
    pub fn new(node_limit: u64, byte_limit: u64) -> Self {
        Self {
            nodes_left: node_limit,
            bytes_left: byte_limit,
            node_limit,
            byte_limit,
        }
    }

    fn node(&mut self) -> Result<(), Kind> {
        self.nodes_left = self.nodes_left.checked_sub(1).ok_or(Kind::LimitExceeded {
            what: "number of values built",
            limit: self.node_limit,
        })?;
        Ok(())
    }

    fn bytes(&mut self, n: usize) -> Result<(), Kind> {
        self.bytes_left = self
            .bytes_left
            .checked_sub(n as u64)
            .ok_or(Kind::LimitExceeded {
                what: "bytes of copied strings",
                limit: self.byte_limit,
            })?;
        Ok(())
    }
}

/// Turns nodes into values. With `take_last`, an entry whose last reference is being resolved
/// is moved out of the memo instead of copied (only safe once the stream has ended).
pub(crate) struct Resolver<'a> {
    pub memo: &'a mut Memo,
    pub budget: &'a mut Budget,
    pub max_depth: u32,
    pub take_last: bool,
}

impl Resolver<'_> {
    pub fn resolve(&mut self, node: Node) -> Result<Value, Kind> {
        let mut visiting = Vec::new();
        self.owned(node, 0, &mut visiting)
    }

    fn owned(&mut self, node: Node, depth: u32, visiting: &mut Vec<u32>) -> Result<Value, Kind> {
        check_depth(depth, node.depth(), self.max_depth)?;
        self.budget.node()?;
        let seq = |this: &mut Self, items: Vec<Node>, visiting: &mut Vec<u32>| {
            items
                .into_iter()
                .map(|n| this.owned(n, depth + 1, visiting))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match node {
            Node::Leaf(value, _) => value,
            Node::Ref(id) => return self.reference(id, depth, visiting),
            Node::List(items, _) => Value::List(seq(self, items, visiting)?),
            Node::Tuple(items, _) => Value::Tuple(seq(self, items, visiting)?),
            Node::Set(items, _) => Value::Set(seq(self, items, visiting)?),
            Node::Dict(entries, _) => Value::Dict(self.owned_pairs(entries, depth, visiting)?),
            Node::Object(o) => {
                let NodeObject {
                    global,
                    args,
                    kwargs,
                    state,
                    ..
                } = *o;
                let args = seq(self, args, visiting)?;
                let kwargs = self.owned_pairs(kwargs, depth, visiting)?;
                let state = state
                    .map(|s| self.owned(s, depth + 1, visiting))
                    .transpose()?;
                Value::Object(Box::new(Object {
                    module: global.module,
                    name: global.name,
                    args,
                    kwargs,
                    state,
                }))
            }
        })
    }

    fn owned_pairs(
        &mut self,
        pairs: Vec<(Node, Node)>,
        depth: u32,
        visiting: &mut Vec<u32>,
    ) -> Result<Vec<(Value, Value)>, Kind> {
        pairs
            .into_iter()
            .map(|(k, v)| {
                Ok((
                    self.owned(k, depth + 1, visiting)?,
                    self.owned(v, depth + 1, visiting)?,
                ))
            })
            .collect()
    }

    fn reference(&mut self, id: u32, depth: u32, visiting: &mut Vec<u32>) -> Result<Value, Kind> {
        if visiting.contains(&id) {
            return Err(Kind::RecursiveStructure);
        }
        let entry = self
            .memo
            .entries
            .get_mut(&id)
            .ok_or(Kind::MissingMemo(id.into()))?;
        entry.refs = entry.refs.saturating_sub(1);
        visiting.push(id);
        let value = if self.take_last && entry.refs == 0 {
            let node = entry.node.take().ok_or(Kind::MissingMemo(id.into()))?;
            self.owned(node, depth, visiting)
        } else {
            let mut copier = Copier {
                memo: self.memo,
                budget: self.budget,
                max_depth: self.max_depth,
            };
            let node = copier.memo.node(id)?;
            copier.node(node, depth, visiting)
        };
        visiting.pop();
        value
    }
}

fn check_depth(depth: u32, node_depth: u32, limit: u32) -> Result<(), Kind> {
    if depth.saturating_add(node_depth) > limit {
        return Err(Kind::LimitExceeded {
            what: "nesting depth",
            limit: limit.into(),
        });
    }
    Ok(())
}

/// Builds values from nodes that stay in the memo (shared references): everything is copied
/// and paid for from the budget before it is allocated.
struct Copier<'a> {
    memo: &'a Memo,
    budget: &'a mut Budget,
    max_depth: u32,
}

impl Copier<'_> {
    fn node(&mut self, node: &Node, depth: u32, visiting: &mut Vec<u32>) -> Result<Value, Kind> {
        check_depth(depth, node.depth(), self.max_depth)?;
        let seq = |this: &mut Self, items: &[Node], visiting: &mut Vec<u32>| {
            this.budget.node()?;
            items
                .iter()
                .map(|n| this.node(n, depth + 1, visiting))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match node {
            Node::Leaf(value, _) => self.value(value)?,
            Node::Ref(id) => {
                if visiting.contains(id) {
                    return Err(Kind::RecursiveStructure);
                }
                visiting.push(*id);
                let target = self.memo.node(*id)?;
                let value = self.node(target, depth, visiting);
                visiting.pop();
                value?
            }
            Node::List(items, _) => Value::List(seq(self, items, visiting)?),
            Node::Tuple(items, _) => Value::Tuple(seq(self, items, visiting)?),
            Node::Set(items, _) => Value::Set(seq(self, items, visiting)?),
            Node::Dict(entries, _) => {
                self.budget.node()?;
                Value::Dict(self.pairs(entries, depth, visiting)?)
            }
            Node::Object(o) => {
                self.budget.node()?;
                self.budget
                    .bytes(o.global.module.len() + o.global.name.len())?;
                let args = seq(self, &o.args, visiting)?;
                let kwargs = self.pairs(&o.kwargs, depth, visiting)?;
                let state = match &o.state {
                    Some(s) => Some(self.node(s, depth + 1, visiting)?),
                    None => None,
                };
                Value::Object(Box::new(Object {
                    module: o.global.module.clone(),
                    name: o.global.name.clone(),
                    args,
                    kwargs,
                    state,
                }))
            }
        })
    }

    fn pairs(
        &mut self,
        pairs: &[(Node, Node)],
        depth: u32,
        visiting: &mut Vec<u32>,
    ) -> Result<Vec<(Value, Value)>, Kind> {
        pairs
            .iter()
            .map(|(k, v)| {
                Ok((
                    self.node(k, depth + 1, visiting)?,
                    self.node(v, depth + 1, visiting)?,
                ))
            })
            .collect()
    }

    /// A copy of a finished value, charged node by node before allocating.
    fn value(&mut self, value: &Value) -> Result<Value, Kind> {
        self.budget.node()?;
        Ok(match value {
            Value::Str(s) => {
                self.budget.bytes(s.len())?;
                Value::Str(s.clone())
            }
            Value::Bytes(b) | Value::BigInt(b) => {
                self.budget.bytes(b.len())?;
                value.clone()
            }
            Value::List(items) => Value::List(self.values(items)?),
            Value::Tuple(items) => Value::Tuple(self.values(items)?),
            Value::Set(items) => Value::Set(self.values(items)?),
            Value::Dict(entries) => Value::Dict(
                entries
                    .iter()
                    .map(|(k, v)| Ok((self.value(k)?, self.value(v)?)))
                    .collect::<Result<_, Kind>>()?,
            ),
            Value::Object(o) => {
                self.budget.bytes(o.module.len() + o.name.len())?;
                Value::Object(Box::new(Object {
                    module: o.module.clone(),
                    name: o.name.clone(),
                    args: self.values(&o.args)?,
                    kwargs: o
                        .kwargs
                        .iter()
                        .map(|(k, v)| Ok((self.value(k)?, self.value(v)?)))
                        .collect::<Result<_, Kind>>()?,
                    state: o.state.as_ref().map(|s| self.value(s)).transpose()?,
                }))
            }
            Value::Tensor(t) => {
                self.budget
                    .bytes(t.storage.key.len() + 8 * t.shape.len() * 2)?;
                value.clone()
            }
            Value::Storage(s) => {
                self.budget.bytes(s.key.len() + s.class.len())?;
                value.clone()
            }
            Value::Global(g) => {
                self.budget.bytes(g.module.len() + g.name.len())?;
                value.clone()
            }
            Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) => value.clone(),
        })
    }

    fn values(&mut self, items: &[Value]) -> Result<Vec<Value>, Kind> {
        items.iter().map(|v| self.value(v)).collect()
    }
}
