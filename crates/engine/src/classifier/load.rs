//! Reading a pickled `MLPClassifier` checkpoint: which tensors it must hold, their shapes,
//! and the BatchNorm epsilon. Nothing in the pickle is executed (see `virnucpro_core::pickle`);
//! this module only checks the inert structure and says which storages to read.
use std::collections::BTreeMap;

use virnucpro_core::pickle::{named_tensors, Object, TensorRef, Value};

use super::error::ClassifierProblem as Problem;

/// PyTorch's `BatchNorm1d` default, used when the pickle does not record `eps`.
pub const DEFAULT_BN_EPS: f64 = 1e-5;

const LINEAR: (&str, &str) = ("torch.nn.modules.linear", "Linear");
const BATCH_NORM_1D: (&str, &str) = ("torch.nn.modules.batchnorm", "BatchNorm1d");
/// Submodules without weights that may sit beside the layers (identity in eval, or the
/// activation the forward applies anyway).
const WEIGHTLESS: [(&str, &str); 2] = [
    ("torch.nn.modules.dropout", "Dropout"),
    ("torch.nn.modules.activation", "ReLU"),
];

/// The tensors of the model, in the order they are read.
pub const PARAMETERS: [&str; 8] = [
    "hidden_layer.weight",
    "hidden_layer.bias",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "output_layer.weight",
    "output_layer.bias",
];

/// Present in every BatchNorm saved by PyTorch >= 0.4.1; an integer counter, unused in eval.
const IGNORED: [&str; 1] = ["bn1.num_batches_tracked"];

/// Number of classes (`others`, `virus`).
pub const CLASSES: u64 = 2;

/// A checked checkpoint: dimensions, epsilon and where each parameter lives.
#[derive(Debug)]
pub struct Layout {
    pub input_dim: u64,
    pub hidden_dim: u64,
    pub eps: f64,
    /// `(name, tensor)` in [`PARAMETERS`] order.
    pub tensors: Vec<(&'static str, TensorRef)>,
}

/// Check that `root` is a whole pickled `MLPClassifier` and lay out its parameters.
pub fn layout(root: &Value) -> Result<Layout, Problem> {
    let model = root.as_object().ok_or_else(|| {
        Problem::WrongArchitecture(format!("the pickle holds a {}", root.type_name()))
    })?;
    if model.name != "MLPClassifier" {
        return Err(Problem::WrongArchitecture(format!(
            "the pickle holds a {}.{}",
            model.module, model.name
        )));
    }
    if model.module != "__main__" {
        tracing::debug!(module = %model.module, "MLPClassifier pickled from outside __main__");
    }
    let modules = submodules(model)?;
    check_submodules(&modules)?;

    let mut found: BTreeMap<String, TensorRef> = named_tensors(root).into_iter().collect();
    for name in IGNORED {
        found.remove(name);
    }
    let missing: Vec<String> = PARAMETERS
        .iter()
        .filter(|name| !found.contains_key(**name))
        .map(|name| name.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Problem::MissingKeys(missing));
    }
    let unexpected: Vec<String> = found
        .keys()
        .filter(|name| !PARAMETERS.contains(&name.as_str()))
        .cloned()
        .collect();
    if !unexpected.is_empty() {
        return Err(Problem::UnexpectedKeys(unexpected));
    }

    let Some(weight) = found.get(PARAMETERS[0]) else {
        return Err(Problem::MissingKeys(vec![PARAMETERS[0].to_string()]));
    };
    let (hidden_dim, input_dim) = match weight.shape[..] {
        [h, i] if h > 0 && i > 0 => (h, i),
        _ => {
            return Err(Problem::ShapeMismatch {
                key: "hidden_layer.weight".into(),
                expected: vec![],
                found: weight.shape.clone(),
            })
        }
    };
    let expected_shape = |name: &str| -> Vec<u64> {
        match name {
            "hidden_layer.weight" => vec![hidden_dim, input_dim],
            "output_layer.weight" => vec![CLASSES, hidden_dim],
            "output_layer.bias" => vec![CLASSES],
            _ => vec![hidden_dim],
        }
    };
    let mut tensors = Vec::with_capacity(PARAMETERS.len());
    for name in PARAMETERS {
        let Some(tensor) = found.remove(name) else {
            return Err(Problem::MissingKeys(vec![name.to_string()]));
        };
        let expected = expected_shape(name);
        if tensor.shape != expected {
            return Err(Problem::ShapeMismatch {
                key: name.to_string(),
                expected,
                found: tensor.shape,
            });
        }
        tensors.push((name, tensor));
    }

    check_recorded_size(&modules, "hidden_layer", "in_features", input_dim)?;
    check_recorded_size(&modules, "hidden_layer", "out_features", hidden_dim)?;
    check_recorded_size(&modules, "bn1", "num_features", hidden_dim)?;
    check_recorded_size(&modules, "output_layer", "in_features", hidden_dim)?;
    check_recorded_size(&modules, "output_layer", "out_features", CLASSES)?;
    let eps = batch_norm_eps(&modules)?;
    Ok(Layout {
        input_dim,
        hidden_dim,
        eps,
        tensors,
    })
}

/// The `_modules` of the pickled model, by name.
fn submodules(model: &Object) -> Result<Vec<(&str, &Object)>, Problem> {
    let Some(Value::Dict(entries)) = model.attr("_modules") else {
        return Err(Problem::WrongArchitecture(
            "the MLPClassifier object has no _modules (not an nn.Module)".into(),
        ));
    };
    entries
        .iter()
        .map(|(key, value)| {
            let name = key.as_str().unwrap_or("?");
            match value.as_object() {
                Some(object) => Ok((name, object)),
                None => Err(Problem::WrongArchitecture(format!(
                    "submodule {name} is a {}, not a module",
                    value.type_name()
                ))),
            }
        })
        .collect()
}

fn check_submodules(modules: &[(&str, &Object)]) -> Result<(), Problem> {
    for (name, object) in modules {
        let wanted = match *name {
            "hidden_layer" | "output_layer" => Some(LINEAR),
            "bn1" => Some(BATCH_NORM_1D),
            _ => None,
        };
        let ok = match wanted {
            Some((module, class)) => object.is(module, class),
            None => WEIGHTLESS.iter().any(|(m, c)| object.is(m, c)),
        };
        if !ok {
            let expected = match wanted {
                Some((module, class)) => format!("{module}.{class}"),
                None => "no such layer".to_string(),
            };
            return Err(Problem::WrongArchitecture(format!(
                "submodule {name} is a {}.{} (expected {expected})",
                object.module, object.name
            )));
        }
    }
    Ok(())
}

fn find<'a>(modules: &[(&str, &'a Object)], name: &str) -> Option<&'a Object> {
    modules.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
}

/// A size the layer recorded (`in_features`, ...) must agree with its weights.
fn check_recorded_size(
    modules: &[(&str, &Object)],
    layer: &str,
    attr: &str,
    actual: u64,
) -> Result<(), Problem> {
    let Some(value) = find(modules, layer).and_then(|o| o.attr(attr)) else {
        return Ok(());
    };
    match value.as_int() {
        Some(recorded) if u64::try_from(recorded).ok() == Some(actual) => Ok(()),
        _ => Err(Problem::BadAttribute {
            attr: format!("{layer}.{attr}"),
            detail: format!("it records {value:?}, but the weights give {actual}"),
        }),
    }
}

/// `bn1.eps` as pickled, or PyTorch's default when the attribute is absent.
fn batch_norm_eps(modules: &[(&str, &Object)]) -> Result<f64, Problem> {
    let Some(value) = find(modules, "bn1").and_then(|o| o.attr("eps")) else {
        tracing::debug!(
            eps = DEFAULT_BN_EPS,
            "bn1 records no eps; using the BatchNorm1d default"
        );
        return Ok(DEFAULT_BN_EPS);
    };
    match value.as_f64() {
        Some(eps) if eps.is_finite() && eps >= 0.0 => Ok(eps),
        _ => Err(Problem::BadAttribute {
            attr: "bn1.eps".into(),
            detail: format!("{value:?} is not a non-negative number"),
        }),
    }
}
