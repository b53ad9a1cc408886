//! Naming the tensors of a checkpoint the way `state_dict()` would.
use super::tensor::TensorRef;
use super::value::Value;

/// Every tensor reachable from `root`, named by its dotted path: dict keys (plain dicts and
/// OrderedDicts, nested as in fair-esm's `{"model": {...}}`), list indices, and for pickled
/// `nn.Module`s the `_parameters`, `_buffers` (minus non-persistent ones) and `_modules`
/// entries, so a whole pickled model yields `hidden_layer.weight`, `bn1.running_mean`, ...
/// Other objects (e.g. an `argparse.Namespace`) contribute the tensors in their attributes.
pub fn named_tensors(root: &Value) -> Vec<(String, TensorRef)> {
    let mut out = Vec::new();
    walk(root, String::new(), &mut out);
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn key_name(key: &Value) -> Option<String> {
    match key {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

// Values are depth-limited when built, so this recursion is bounded.
fn walk(value: &Value, prefix: String, out: &mut Vec<(String, TensorRef)>) {
    match value {
        Value::Tensor(t) => out.push((prefix, (**t).clone())),
        Value::Dict(entries) => {
            for (k, v) in entries {
                if let Some(name) = key_name(k) {
                    walk(v, join(&prefix, &name), out);
                }
            }
        }
        Value::List(items) | Value::Tuple(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, join(&prefix, &i.to_string()), out);
            }
        }
        Value::Object(o) => match o.state.as_ref() {
            Some(state) if is_module(state) => walk_module(state, &prefix, out),
            Some(state) => walk(state, prefix, out),
            None => {}
        },
        _ => {}
    }
}

fn is_module(state: &Value) -> bool {
    state.get("_parameters").is_some() && state.get("_modules").is_some()
}

fn walk_module(state: &Value, prefix: &str, out: &mut Vec<(String, TensorRef)>) {
    let non_persistent: Vec<&str> = match state.get("_non_persistent_buffers_set") {
        Some(Value::Set(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for (field, skip) in [("_parameters", &[][..]), ("_buffers", &non_persistent[..])] {
        if let Some(Value::Dict(entries)) = state.get(field) {
            for (k, v) in entries {
                match (k.as_str(), v) {
                    (Some(name), Value::Tensor(t)) if !skip.contains(&name) => {
                        out.push((join(prefix, name), (**t).clone()))
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(Value::Dict(children)) = state.get("_modules") {
        for (k, child) in children {
            if let Some(name) = k.as_str() {
                walk(child, join(prefix, name), out);
            }
        }
    }
}
