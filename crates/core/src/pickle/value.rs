//! Inert data produced by the pickle VM: nothing here can run code.
use super::tensor::{StorageRef, TensorRef};

/// A fully built pickle value. Shared references in the stream become copies, so the tree has
/// no cycles and its depth is bounded by [`super::Limits::max_depth`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too wide for `i64`, as little-endian two's-complement bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// `dict` and `collections.OrderedDict`, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// `set` and `frozenset`.
    Set(Vec<Value>),
    /// A class or function that was named but never called.
    Global(Box<Global>),
    Object(Box<Object>),
    // Boxed so that the common small values (floats, strings) stay 32 bytes.
    Tensor(Box<TensorRef>),
    /// A storage that no tensor wraps (the raw result of a persistent id).
    Storage(Box<StorageRef>),
}

/// A `module.name` reference to a class or function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub module: String,
    pub name: String,
}

impl std::fmt::Display for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// An instance of a class that is not interpreted (a pickled `nn.Module`, `argparse.Namespace`,
/// ...): the class name, its constructor arguments and the state given to `BUILD`.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub module: String,
    pub name: String,
    pub args: Vec<Value>,
    /// Keyword arguments of `NEWOBJ_EX`, if any.
    pub kwargs: Vec<(Value, Value)>,
    pub state: Option<Value>,
}

impl Object {
    /// Whether this is an instance of `module.name`.
    pub fn is(&self, module: &str, name: &str) -> bool {
        self.module == module && self.name == name
    }

    /// An attribute set by `BUILD` (the instance `__dict__`), e.g. a Namespace field.
    pub fn attr(&self, key: &str) -> Option<&Value> {
        let state = match &self.state {
            // `(dict_state, slot_state)` as written for classes with `__slots__`.
            Some(Value::Tuple(parts)) => parts.first()?,
            Some(state) => state,
            None => return None,
        };
        state.get(key)
    }
}

impl Value {
    /// The value under string key `key` of a dict (the last one if a crafted stream repeats
    /// the key, as Python would keep).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// A float, or an integer read as one (Python mixes them freely).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The items of a list or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_tensor(&self) -> Option<&TensorRef> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Global(_) => "global",
            Value::Object(_) => "object",
            Value::Tensor(_) => "tensor",
            Value::Storage(_) => "storage",
        }
    }
}
