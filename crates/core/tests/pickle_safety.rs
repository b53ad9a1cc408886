//! The pickle VM on hostile input: code-executing globals are refused by name, and
//! truncated, garbled or explosive streams end in errors, never panics or runaway memory.
mod support;

use std::path::Path;

use support::{torch_archive, Pickle};
use virnucpro_core::pickle::{
    parse_pickle, Limits, PickleErrorKind, TorchArchive, TorchFileProblem, Value,
};

fn run(bytes: &[u8]) -> Result<Value, virnucpro_core::pickle::PickleError> {
    parse_pickle(bytes, &Limits::default())
}

/// `module.name(*args)` the classic way: GLOBAL, a tuple of arguments, REDUCE.
fn call_with_global(module: &str, name: &str) -> Vec<u8> {
    Pickle::proto(2)
        .global(module, name)
        .mark()
        .str("touch /tmp/pwned")
        .tuple()
        .reduce()
        .stop()
}

/// The same with protocol 4's STACK_GLOBAL, which takes the names from the stack.
fn call_with_stack_global(module: &str, name: &str) -> Vec<u8> {
    Pickle::proto(4)
        .str(module)
        .str(name)
        .op(0x93)
        .mark()
        .str("1+1")
        .tuple()
        .reduce()
        .stop()
}

#[test]
fn code_executing_globals_are_refused_by_name() {
    let dangerous = [
        ("os", "system"),
        ("posix", "system"),
        ("nt", "system"),
        ("subprocess", "Popen"),
        ("subprocess", "check_output"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("builtins", "getattr"),
        ("builtins", "__import__"),
        ("__builtin__", "eval"),
        ("__builtin__", "open"),
        ("runpy", "_run_code"),
        ("importlib", "import_module"),
        ("pickle", "loads"),
        ("torch", "load"),
    ];
    for (module, name) in dangerous {
        for bytes in [
            call_with_global(module, name),
            call_with_stack_global(module, name),
        ] {
            let err = run(&bytes).expect_err(&format!("{module}.{name} must be refused"));
            assert_eq!(
                err.kind,
                PickleErrorKind::ForbiddenGlobal {
                    module: module.into(),
                    name: name.into()
                }
            );
            assert!(
                err.to_string().contains(&format!("{module}.{name}")),
                "message names the global: {err}"
            );
        }
    }
}

#[test]
fn refusal_inside_an_archive_names_the_file_and_the_global() {
    let archive = torch_archive(&call_with_global("os", "system"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_temp(&dir, "evil.pt", &archive);
    let err = TorchArchive::open(&path).unwrap().load().unwrap_err();
    let message = err.to_string();
    assert!(message.contains("evil.pt"), "{message}");
    assert!(message.contains("os.system"), "{message}");
    assert!(matches!(
        err.problem,
        TorchFileProblem::Pickle(ref e) if matches!(e.kind, PickleErrorKind::ForbiddenGlobal { .. })
    ));
}

#[test]
fn unknown_classes_become_inert_objects() {
    // torch.save(model) of a user class: NEWOBJ then BUILD with the instance dict.
    let bytes = Pickle::proto(2)
        .global("__main__", "MLPClassifier")
        .op(b')')
        .op(0x81)
        .op(b'}')
        .mark()
        .str("training")
        .op(0x89)
        .str("hidden")
        .int(512)
        .op(b'u')
        .op(b'b')
        .stop();
    let value = run(&bytes).unwrap();
    let object = value.as_object().expect("an object");
    assert!(object.is("__main__", "MLPClassifier"));
    assert_eq!(object.attr("hidden"), Some(&Value::Int(512)));
    assert_eq!(object.attr("training"), Some(&Value::Bool(false)));
}

#[test]
fn shared_containers_see_later_mutations() {
    // d = {}; memoised while empty, referenced from a list, then filled: the reference
    // must see the filled dict, as Python's does.
    let bytes = Pickle::proto(2)
        .op(b']')
        .mark()
        .op(b'}')
        .put(1)
        .get(1)
        .op(b'e')
        .get(1)
        .str("k")
        .int(7)
        .op(b's')
        .op(b'a')
        .stop();
    let value = run(&bytes).unwrap();
    let items = value.as_seq().unwrap();
    assert_eq!(items.len(), 3);
    for item in items {
        assert_eq!(item.get("k"), Some(&Value::Int(7)));
    }
}

#[test]
fn every_truncation_of_a_real_pickle_is_an_error() {
    let path = virnucpro_testkit::fixture("reference/test_fixed_500bp_vanilla/output_1_ESM.pt");
    let full = TorchArchive::open(&path).unwrap().pickle_bytes().unwrap();
    assert!(run(&full).is_ok());
    for cut in 0..full.len() {
        let result = run(&full[..cut]);
        assert!(result.is_err(), "a pickle cut at {cut} bytes was accepted");
    }
}

/// Deterministic pseudo-random mutations (no external crate needed for a tiny LCG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn garbled_pickles_never_panic() {
    let files = [
        "reference/test_fixed_500bp_vanilla/output_1_ESM.pt",
        "reference/test_fixed_500bp_vanilla/output_1_merged.pt",
        "classifier/mlp_3328x512_cuda.pth",
        "models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt",
    ];
    let mut rng = Lcg(0x5eed);
    for file in files {
        let path = virnucpro_testkit::fixture(file);
        let original = TorchArchive::open(&path).unwrap().pickle_bytes().unwrap();
        for _ in 0..400 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % bytes.len();
                bytes[at] = rng.next() as u8;
            }
            // Any outcome but a panic is acceptable: most mutations are errors, some are
            // still valid pickles with other values.
            let _ = run(&bytes);
        }
    }
}

#[test]
fn deep_nesting_is_bounded() {
    // 100 000 nested lists: [[[[...]]]]
    let depth = 100_000;
    let mut bytes = vec![0x80, 2];
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.extend(std::iter::repeat_n(b'a', depth - 1));
    bytes.push(b'.');
    let err = run(&bytes).unwrap_err();
    assert!(
        matches!(
            err.kind,
            PickleErrorKind::LimitExceeded {
                what: "nesting depth",
                ..
            }
        ),
        "{err}"
    );
    // Nested MARK/TUPLE is caught the same way.
    let mut bytes = vec![0x80, 2];
    bytes.extend(std::iter::repeat_n(b'(', depth));
    bytes.extend(std::iter::repeat_n(b't', depth));
    bytes.push(b'.');
    assert!(matches!(
        run(&bytes).unwrap_err().kind,
        PickleErrorKind::LimitExceeded { .. }
    ));
    // Depth reached through memo references is checked when the value is built.
    let mut p = Pickle::proto(2).op(b']').put(0);
    for id in 1..=250u8 {
        p = p.op(b']').get(id - 1).op(b'a').put(id);
    }
    let bytes = p.stop();
    assert!(
        run(&bytes).is_ok(),
        "250 levels are within the default limit"
    );
    let limits = Limits {
        max_depth: 100,
        ..Limits::default()
    };
    assert!(matches!(
        parse_pickle(&bytes, &limits).unwrap_err().kind,
        PickleErrorKind::LimitExceeded {
            what: "nesting depth",
            ..
        }
    ));
}

#[test]
fn exponential_sharing_is_bounded() {
    // x0 = [0]; x(n+1) = (xn, xn): 2^60 leaves when expanded, from a few hundred bytes.
    let mut p = Pickle::proto(2).op(b']').int(0).op(b'a').put(0);
    for id in 1..=60u8 {
        p = p.get(id - 1).get(id - 1).op(0x86).put(id);
    }
    let bytes = p.stop();
    let err = run(&bytes).unwrap_err();
    assert!(
        matches!(
            err.kind,
            PickleErrorKind::LimitExceeded {
                what: "number of values built",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn self_referencing_structures_are_refused() {
    // l = []; l.append(l)
    let bytes = Pickle::proto(2).op(b']').put(0).get(0).op(b'a').stop();
    assert_eq!(
        run(&bytes).unwrap_err().kind,
        PickleErrorKind::RecursiveStructure
    );
}

#[test]
fn malformed_streams_have_typed_errors() {
    let cases: Vec<(Vec<u8>, PickleErrorKind)> = vec![
        (vec![], PickleErrorKind::UnexpectedEof),
        (vec![0x80, 2], PickleErrorKind::UnexpectedEof),
        (
            vec![0x80, 9, b'N', b'.'],
            PickleErrorKind::UnsupportedProtocol(9),
        ),
        (vec![0xff], PickleErrorKind::UnknownOpcode(0xff)),
        (
            vec![b'.'],
            PickleErrorKind::StackUnderflow { opcode: "STOP" },
        ),
        (
            vec![b'e'],
            PickleErrorKind::MissingMark { opcode: "APPENDS" },
        ),
        (vec![b'h', 3, b'.'], PickleErrorKind::MissingMemo(3)),
        (vec![b'2'], PickleErrorKind::UnsupportedOpcode("DUP")),
        (vec![b'i'], PickleErrorKind::UnsupportedOpcode("INST")),
        (vec![0x82, 1], PickleErrorKind::UnsupportedOpcode("EXT")),
        // A length claim far beyond the input is not allocated.
        (
            [&[0x8d][..], &u64::MAX.to_le_bytes(), b"."].concat(),
            PickleErrorKind::UnexpectedEof,
        ),
        (
            [&[b'X'][..], &2u32.to_le_bytes(), &[0xff, 0xfe], b"."].concat(),
            PickleErrorKind::InvalidUtf8,
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(run(&bytes).unwrap_err().kind, expected, "{bytes:?}");
    }
    // APPEND onto an object would call its method: refused.
    let bytes = Pickle::proto(2)
        .global("__main__", "Thing")
        .op(b')')
        .op(0x81)
        .int(1)
        .op(b'a')
        .stop();
    assert!(matches!(
        run(&bytes).unwrap_err().kind,
        PickleErrorKind::BadOperand(_)
    ));
}

#[test]
fn small_limits_are_enforced() {
    let bytes = Pickle::proto(2)
        .op(b']')
        .mark()
        .int(1)
        .int(2)
        .int(3)
        .op(b'e')
        .stop();
    let limits = Limits {
        max_stack: 3,
        ..Limits::default()
    };
    assert!(matches!(
        parse_pickle(&bytes, &limits).unwrap_err().kind,
        PickleErrorKind::LimitExceeded {
            what: "stack size",
            ..
        }
    ));
    let limits = Limits {
        max_memo: 1,
        ..Limits::default()
    };
    let bytes = Pickle::proto(2).int(1).put(0).int(2).put(1).op(0x86).stop();
    assert!(matches!(
        parse_pickle(&bytes, &limits).unwrap_err().kind,
        PickleErrorKind::LimitExceeded {
            what: "memo size",
            ..
        }
    ));
}

#[test]
fn every_truncation_of_a_real_archive_is_an_error() {
    let path = virnucpro_testkit::fixture("reference/test_fixed_500bp_vanilla/output_1_merged.pt");
    let full = std::fs::read(&path).unwrap();
    let name = Path::new("cut.pt");
    for cut in (0..full.len()).step_by(7).chain([full.len() - 1]) {
        let bytes = full[..cut].to_vec();
        let loaded = TorchArchive::from_source(name, bytes).and_then(|a| {
            let value = a.load()?;
            let tensor = value.get("data").and_then(Value::as_tensor).cloned();
            match tensor {
                Some(t) => a.read_f32(&t).map(|_| ()),
                None => Ok(()),
            }
        });
        assert!(loaded.is_err(), "archive cut at {cut} bytes was accepted");
    }
}

#[test]
fn long_alias_chains_stay_linear() {
    // l = []; memo 0 = l; memo i+1 = memo i (100 000 aliases); then 100 000 appends through
    // the last alias. Walking the chain on every append would take ~10^10 steps.
    let links = 100_000u32;
    let mut bytes = vec![0x80, 2, b']', b'r'];
    bytes.extend_from_slice(&0u32.to_le_bytes());
    for id in 0..links {
        bytes.push(b'j');
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.push(b'r');
        bytes.extend_from_slice(&(id + 1).to_le_bytes());
        bytes.push(b'0'); // POP the alias; keep only the list on the stack
    }
    bytes.push(b'j');
    bytes.extend_from_slice(&links.to_le_bytes());
    for _ in 0..links {
        bytes.extend_from_slice(&[b'K', 7, b'a']);
    }
    bytes.push(b'.');
    let started = std::time::Instant::now();
    let value = run(&bytes).unwrap();
    assert_eq!(value.as_seq().map(<[Value]>::len), Some(links as usize));
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}
