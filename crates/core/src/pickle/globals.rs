//! Which globals a pickle may name, and what the few interpreted ones turn into. Nothing is
//! ever imported or called: a global is either refused, mapped to inert data, or kept as the
//! class of an inert [`super::Object`].
use super::error::PickleErrorKind as Kind;
use super::tensor::{Dtype, StorageRef, TensorRef};
use super::value::{Global, Value};

/// Modules (and their submodules) whose names are refused outright: their members run
/// commands, touch files or the network, import code or call arbitrary functions.
#[rustfmt::skip]
const FORBIDDEN_MODULES: &[&str] = &[
    "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "shutil", "socket", "pty",
    "signal", "importlib", "imp", "zipimport", "pkgutil", "runpy", "code", "codeop", "ctypes",
    "pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib",
    "types", "functools", "operator", "inspect", "io", "_io", "pathlib", "tempfile", "glob",
    "webbrowser", "multiprocessing", "threading", "_thread", "asyncio", "pdb", "bdb", "timeit",
    "trace", "pydoc", "platform", "site", "sysconfig", "distutils", "setuptools", "pip",
    "urllib", "http", "ftplib", "smtplib", "telnetlib", "xmlrpc", "commands", "popen2",
    "torch.hub", "torch.jit", "torch.package", "torch.serialization", "torch._C", "torch.ops",
    "numpy.testing", "numpy.f2py", "numpy.distutils",
];

/// Members of `builtins` that are plain data types. Every other builtin (`eval`, `exec`,
/// `getattr`, `open`, `__import__`, ...) is refused.
#[rustfmt::skip]
const DATA_BUILTINS: &[&str] = &[
    "set", "frozenset", "list", "tuple", "dict", "bytearray", "bytes", "int", "float",
    "complex", "str", "bool", "slice", "range", "object",
];

/// What calling a global means to the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callable {
    /// `torch._utils._rebuild_tensor`, `_v2`, `_v3`.
    RebuildTensor,
    /// `torch._utils._rebuild_parameter` and `_rebuild_parameter_with_state`.
    RebuildParameter,
    /// `torch._tensor._rebuild_from_type_v2(func, type, args, state)`.
    RebuildFromType,
    OrderedDict,
    Set,
    TorchSize,
    /// `_codecs.encode(str, "latin1")`: how protocol 2 writes `bytes` from Python 3.
    CodecsEncode,
    /// `copyreg._reconstructor(cls, base, state)`: protocol 0/1 object creation.
    Reconstructor,
    /// Anything else: an inert object of that class.
    Class,
}

/// Check `module.name` against the policy; refused names become
/// [`Kind::ForbiddenGlobal`].
pub(crate) fn classify(global: &Global) -> Result<Callable, Kind> {
    let (module, name) = (global.module.as_str(), global.name.as_str());
    // Protocol 2 writes Python 3's `builtins` as `__builtin__` (and `copyreg` as `copy_reg`).
    let module = match module {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        other => other,
    };
    let forbidden = || Kind::ForbiddenGlobal {
        module: global.module.clone(),
        name: global.name.clone(),
    };
    if FORBIDDEN_MODULES
        .iter()
        .any(|m| module == *m || module.strip_prefix(m).is_some_and(|r| r.starts_with('.')))
    {
        return Err(forbidden());
    }
    Ok(match (module, name) {
        ("builtins", "set" | "frozenset") => Callable::Set,
        ("builtins", n) if DATA_BUILTINS.contains(&n) => Callable::Class,
        ("builtins", _) => return Err(forbidden()),
        ("copyreg", "_reconstructor") => Callable::Reconstructor,
        ("copyreg", _) => return Err(forbidden()),
        ("_codecs", "encode") => Callable::CodecsEncode,
        ("_codecs", _) => return Err(forbidden()),
        ("collections", "OrderedDict") => Callable::OrderedDict,
        ("torch", "Size") => Callable::TorchSize,
        ("torch._utils", "_rebuild_tensor" | "_rebuild_tensor_v2" | "_rebuild_tensor_v3") => {
            Callable::RebuildTensor
        }
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            Callable::RebuildParameter
        }
        ("torch._tensor", "_rebuild_from_type_v2") => Callable::RebuildFromType,
        ("torch._utils", n) if n.starts_with("_rebuild") => {
            return Err(Kind::BadTensor(format!(
                "torch._utils.{n} (quantized, sparse, nested or meta tensors) is not supported"
            )))
        }
        // `torch.load` and friends live in `torch` itself.
        ("torch", "load" | "save" | "hub" | "jit" | "compile") => return Err(forbidden()),
        _ => Callable::Class,
    })
}

/// The storage record named by a persistent id
/// `("storage", <storage class>, key, location, numel)`.
pub(crate) fn storage_from_pid(pid: Value) -> Result<Value, Kind> {
    let bad = |why: &str| Kind::BadTensor(format!("persistent id: {why}"));
    let Value::Tuple(parts) = pid else {
        return Err(bad("not a tuple"));
    };
    let [tag, class, key, location, numel] = <[Value; 5]>::try_from(parts)
        .map_err(|p| bad(&format!("{} fields instead of 5", p.len())))?;
    if tag.as_str() != Some("storage") {
        return Err(bad("the first field is not 'storage'"));
    }
    let Value::Global(class) = class else {
        return Err(bad("the storage class is not a global"));
    };
    let key = string(key).ok_or_else(|| bad("the storage key is not a string"))?;
    let location = string(location).ok_or_else(|| bad("the location is not a string"))?;
    let numel = non_negative(&numel).ok_or_else(|| bad("the element count is not an int"))?;
    Ok(Value::Storage(Box::new(StorageRef {
        key,
        dtype: Dtype::from_storage_class(&class.name),
        class: class.name,
        location,
        numel,
    })))
}

/// Apply an interpreted callable to its (resolved) arguments.
pub(crate) fn call(callable: Callable, args: Vec<Value>) -> Result<Value, Kind> {
    match callable {
        Callable::RebuildTensor => rebuild_tensor(args),
        Callable::RebuildParameter => match args.into_iter().next() {
            Some(tensor @ Value::Tensor(_)) => Ok(tensor),
            _ => Err(Kind::BadTensor(
                "_rebuild_parameter expects a tensor as first argument".into(),
            )),
        },
        Callable::RebuildFromType => {
            let mut args = args.into_iter();
            let (Some(Value::Global(func)), _, Some(Value::Tuple(inner))) =
                (args.next(), args.next(), args.next())
            else {
                return Err(Kind::BadTensor(
                    "_rebuild_from_type_v2 expects (function, type, args, state)".into(),
                ));
            };
            match classify(&func)? {
                inner_callable @ (Callable::RebuildTensor | Callable::RebuildParameter) => {
                    call(inner_callable, inner)
                }
                _ => Err(Kind::BadTensor(format!(
                    "_rebuild_from_type_v2 names {func}, which does not rebuild a tensor"
                ))),
            }
        }
        Callable::Set => match args.into_iter().next() {
            None => Ok(Value::Set(Vec::new())),
            Some(Value::List(items) | Value::Tuple(items) | Value::Set(items)) => {
                Ok(Value::Set(items))
            }
            Some(other) => Err(Kind::BadOperand(format!(
                "set() of a {} is not supported",
                other.type_name()
            ))),
        },
        Callable::TorchSize => match args.into_iter().next() {
            None => Ok(Value::Tuple(Vec::new())),
            Some(Value::List(items) | Value::Tuple(items)) => Ok(Value::Tuple(items)),
            Some(other) => Err(Kind::BadOperand(format!(
                "torch.Size() of a {}",
                other.type_name()
            ))),
        },
        Callable::CodecsEncode => codecs_encode(args),
        Callable::OrderedDict => ordered_dict(args),
        // Handled by the VM, which keeps these as nodes that later opcodes can fill.
        Callable::Reconstructor | Callable::Class => Err(Kind::BadOperand(
            "internal: class construction reached call()".into(),
        )),
    }
}

fn ordered_dict(args: Vec<Value>) -> Result<Value, Kind> {
    let Some(items) = args.into_iter().next() else {
        return Ok(Value::Dict(Vec::new()));
    };
    let (Value::List(items) | Value::Tuple(items)) = items else {
        return Err(Kind::BadOperand(
            "OrderedDict() expects a list of pairs".into(),
        ));
    };
    items
        .into_iter()
        .map(|pair| match pair {
            Value::Tuple(kv) | Value::List(kv) => <[Value; 2]>::try_from(kv)
                .map(|[k, v]| (k, v))
                .map_err(|_| Kind::BadOperand("OrderedDict() item is not a pair".into())),
            _ => Err(Kind::BadOperand("OrderedDict() item is not a pair".into())),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Dict)
}

fn codecs_encode(args: Vec<Value>) -> Result<Value, Kind> {
    let mut args = args.into_iter();
    let (Some(Value::Str(text)), Some(Value::Str(encoding))) = (args.next(), args.next()) else {
        return Err(Kind::BadOperand(
            "_codecs.encode expects (str, encoding)".into(),
        ));
    };
    if !matches!(encoding.as_str(), "latin1" | "latin-1" | "iso-8859-1") {
        return Err(Kind::BadOperand(format!(
            "_codecs.encode with encoding {encoding:?} is not supported"
        )));
    }
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .map(Value::Bytes)
        .ok_or_else(|| Kind::BadOperand("_codecs.encode: character outside latin-1".into()))
}

/// `_rebuild_tensor[_v2|_v3](storage, storage_offset, size, stride, [requires_grad,
/// backward_hooks, [dtype,]] [metadata])`.
fn rebuild_tensor(args: Vec<Value>) -> Result<Value, Kind> {
    let bad = |why: String| Kind::BadTensor(why);
    let mut args = args.into_iter();
    let Some(Value::Storage(storage)) = args.next() else {
        return Err(bad("the first argument is not a storage".into()));
    };
    let offset = args
        .next()
        .as_ref()
        .and_then(non_negative)
        .ok_or_else(|| bad("the storage offset is not a non-negative int".into()))?;
    let shape = dims(args.next(), "size")?;
    let stride = dims(args.next(), "stride")?;
    if shape.len() != stride.len() {
        return Err(bad(format!(
            "size has {} dimensions but stride has {}",
            shape.len(),
            stride.len()
        )));
    }
    let mut storage = *storage;
    // `_rebuild_tensor_v3` passes the dtype explicitly (untyped storages).
    if let Some(Value::Global(dtype)) = args.nth(2) {
        if dtype.module == "torch" {
            storage.dtype = Dtype::from_torch_name(&dtype.name);
            storage.class = dtype.name;
        }
    }
    Ok(Value::Tensor(Box::new(TensorRef {
        storage,
        offset,
        shape,
        stride,
    })))
}

fn dims(value: Option<Value>, what: &str) -> Result<Vec<u64>, Kind> {
    value
        .as_ref()
        .and_then(Value::as_seq)
        .and_then(|items| items.iter().map(non_negative).collect::<Option<Vec<_>>>())
        .ok_or_else(|| Kind::BadTensor(format!("the {what} is not a tuple of non-negative ints")))
}

fn non_negative(value: &Value) -> Option<u64> {
    value.as_int().and_then(|i| u64::try_from(i).ok())
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_name(module: &str, name: &str) -> Result<Callable, Kind> {
        classify(&Global {
            module: module.into(),
            name: name.into(),
        })
    }

    #[test]
    fn policy() {
        for (m, n) in [
            ("os", "system"),
            ("posix", "system"),
            ("nt", "system"),
            ("subprocess", "Popen"),
            ("builtins", "eval"),
            ("builtins", "exec"),
            ("builtins", "getattr"),
            ("__builtin__", "eval"),
            ("__builtin__", "__import__"),
            ("os.path", "join"),
            ("torch", "load"),
            ("torch.hub", "load"),
            ("copyreg", "add_extension"),
        ] {
            assert!(
                matches!(classify_name(m, n), Err(Kind::ForbiddenGlobal { ref module, ref name }) if module == m && name == n),
                "{m}.{n} must be refused"
            );
        }
        assert_eq!(classify_name("__builtin__", "set"), Ok(Callable::Set));
        assert_eq!(
            classify_name("collections", "OrderedDict"),
            Ok(Callable::OrderedDict)
        );
        assert_eq!(
            classify_name("__main__", "MLPClassifier"),
            Ok(Callable::Class)
        );
        assert_eq!(
            classify_name("torch.nn.modules.linear", "Linear"),
            Ok(Callable::Class)
        );
        // A module whose name merely starts with a forbidden one is not refused.
        assert_eq!(classify_name("osmium", "Thing"), Ok(Callable::Class));
    }
}
