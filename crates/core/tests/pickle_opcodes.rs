//! Streams written by CPython's own pickler (protocols 0-5), decoded by the VM. The bytes
//! were produced with `pickle.dumps(<expression>, protocol=N)` as noted on each case.
use virnucpro_core::pickle::{parse_pickle, Limits, PickleErrorKind, Value};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn run(hex_bytes: &str) -> Result<Value, PickleErrorKind> {
    parse_pickle(&hex(hex_bytes), &Limits::default()).map_err(|e| e.kind)
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

#[test]
fn protocol_4_scalars_containers_frames_and_memoize() {
    // {'a': [1, -1, 2**40, -2**70, 1.5, True, None, b'xy', 'é'], 't': (1, 2), 's': {3},
    //  'f': frozenset({4})}
    let value = run("80049559000000000000007d94288c0161945d94284b014affffffff8a060000000000018a090000000000000000c0473ff8000000000000884e43027879948c02c3a994658c0174944b014b0286948c0173948f94284b03908c016694284b049194752e").unwrap();
    // -2**70 in 9 little-endian two's-complement bytes.
    let minus_2_70 = Value::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 0, 0xc0]);
    assert_eq!(
        value,
        Value::Dict(vec![
            (
                s("a"),
                Value::List(vec![
                    Value::Int(1),
                    Value::Int(-1),
                    Value::Int(1 << 40),
                    minus_2_70,
                    Value::Float(1.5),
                    Value::Bool(true),
                    Value::None,
                    Value::Bytes(b"xy".to_vec()),
                    s("é"),
                ])
            ),
            (s("t"), Value::Tuple(vec![Value::Int(1), Value::Int(2)])),
            (s("s"), Value::Set(vec![Value::Int(3)])),
            (s("f"), Value::Set(vec![Value::Int(4)])),
        ])
    );
}

#[test]
fn protocol_5_bytearray_and_protocol_2_bytes() {
    // bytearray(b'ab'), protocol 5: BYTEARRAY8.
    assert_eq!(
        run("8005950d000000000000009602000000000000006162942e"),
        Ok(Value::Bytes(b"ab".to_vec()))
    );
    // b'xy', protocol 2: _codecs.encode('xy', 'latin1').
    assert_eq!(
        run("8002635f636f646563730a656e636f64650a710058020000007879710158060000006c6174696e3171028671035271042e"),
        Ok(Value::Bytes(b"xy".to_vec()))
    );
}

#[test]
fn protocols_0_and_1() {
    // [1, 2.5, None, True, 10**20], protocol 0: text INT/FLOAT/LONG, LIST, PUT, APPEND.
    assert_eq!(
        run("286c70300a49310a6146322e350a614e614930310a614c3130303030303030303030303030303030303030304c0a612e"),
        Err(PickleErrorKind::BadOperand(
            "a protocol-0 LONG beyond 64 bits is not supported".into()
        ))
    );
    // The same without the 10**20.
    assert_eq!(
        run("286c70300a49310a6146322e350a614e614930310a612e"),
        Ok(Value::List(vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::None,
            Value::Bool(true)
        ]))
    );
    // [1, (2, 3), {'k': 4}], protocol 1.
    assert_eq!(
        run("5d7100284b01284b024b037471017d710258010000006b71034b0473652e"),
        Ok(Value::List(vec![
            Value::Int(1),
            Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
            Value::Dict(vec![(s("k"), Value::Int(4))]),
        ]))
    );
}

#[test]
fn newobj_ex_keeps_keyword_arguments_and_state() {
    // class C: __getnewargs_ex__ -> ((5,), {'y': 6}); C(5, y=6), protocol 4.
    let value = run("80049530000000000000008c085f5f6d61696e5f5f948c01439493944b0585947d948c0179944b067392947d94288c0178944b0568054b0675622e").unwrap();
    let object = value.as_object().unwrap();
    assert!(object.is("__main__", "C"));
    assert_eq!(object.args, vec![Value::Int(5)]);
    assert_eq!(object.kwargs, vec![(s("y"), Value::Int(6))]);
    assert_eq!(object.attr("x"), Some(&Value::Int(5)));
    assert_eq!(object.attr("y"), Some(&Value::Int(6)));
}
