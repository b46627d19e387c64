//! Property-style tests without a framework: a seeded generator builds random types and
//! conforming values, and the codecs must round-trip them and survive damaged input.

use std::collections::BTreeMap;

use super::{json, msgpack, Number, Type, Value};

/// xorshift64*: small, deterministic, good enough to explore shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn gen_type(rng: &mut Rng, depth: u32) -> Type {
    let leaf = depth == 0 || rng.chance(40);
    if leaf {
        return match rng.below(4) {
            0 => Type::String,
            1 => Type::Number,
            2 => Type::Bool,
            _ => Type::Dynamic,
        };
    }
    match rng.below(5) {
        0 => Type::list(gen_type(rng, depth - 1)),
        1 => Type::set(gen_type(rng, depth - 1)),
        2 => Type::map(gen_type(rng, depth - 1)),
        3 => {
            let n = rng.below(4);
            Type::Object(
                (0..n)
                    .map(|i| (format!("attr_{i}"), gen_type(rng, depth - 1)))
                    .collect(),
            )
        }
        _ => {
            let n = rng.below(3);
            Type::Tuple((0..n).map(|_| gen_type(rng, depth - 1)).collect())
        }
    }
}

fn gen_string(rng: &mut Rng) -> String {
    const PIECES: [&str; 8] = ["a", "Z", "0", " ", "é", "日本", "\"", "\n"];
    (0..rng.below(6))
        .filter_map(|_| {
            PIECES
                .get(usize::try_from(rng.below(8)).unwrap_or(0))
                .copied()
        })
        .collect()
}

fn gen_number(rng: &mut Rng) -> Number {
    match rng.below(4) {
        0 => Number::from_i64(i64::try_from(rng.below(1000)).unwrap_or(0) - 500),
        1 => Number::from_i64(i64::from_ne_bytes(rng.next().to_ne_bytes())),
        2 => Number::from_u64(rng.next()),
        _ => {
            let text = format!(
                "{}{}e{}",
                if rng.chance(50) { "-" } else { "" },
                rng.next(),
                i64::try_from(rng.below(80)).unwrap_or(0) - 40
            );
            Number::parse(&text).unwrap_or_else(|_| Number::zero())
        }
    }
}

fn gen_value(rng: &mut Rng, ty: &Type, unknowns: bool, depth: u32) -> Value {
    if rng.chance(8) {
        return Value::Null;
    }
    if unknowns && rng.chance(8) {
        return Value::Unknown;
    }
    let count = |rng: &mut Rng| rng.below(4);
    match ty {
        Type::String => Value::String(gen_string(rng)),
        Type::Number => Value::Number(gen_number(rng)),
        Type::Bool => Value::Bool(rng.chance(50)),
        Type::Dynamic => {
            let concrete = loop {
                let t = gen_type(rng, depth.min(2));
                if t != Type::Dynamic {
                    break t;
                }
            };
            let inner = gen_value(rng, &concrete, unknowns, depth.saturating_sub(1));
            Value::dynamic(concrete, inner)
        }
        Type::List(ety) => Value::List(
            (0..count(rng))
                .map(|_| gen_value(rng, ety, unknowns, depth))
                .collect(),
        ),
        Type::Set(ety) => Value::set(
            (0..count(rng))
                .map(|_| gen_value(rng, ety, unknowns, depth))
                .collect(),
        ),
        Type::Map(ety) => Value::Map(
            (0..count(rng))
                .map(|_| (gen_string(rng), gen_value(rng, ety, unknowns, depth)))
                .collect::<BTreeMap<_, _>>(),
        ),
        Type::Object(atys) => Value::Object(
            atys.iter()
                .map(|(k, t)| (k.clone(), gen_value(rng, t, unknowns, depth)))
                .collect(),
        ),
        Type::Tuple(etys) => Value::Tuple(
            etys.iter()
                .map(|t| gen_value(rng, t, unknowns, depth))
                .collect(),
        ),
    }
}

#[test]
fn msgpack_round_trips_random_values() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..2000 {
        let ty = gen_type(&mut rng, 4);
        let v = gen_value(&mut rng, &ty, true, 3);
        let bytes = msgpack::encode(&v, &ty)
            .unwrap_or_else(|e| panic!("case {case}: encode {v:?} as {ty}: {e}"));
        let back = msgpack::decode(&bytes, &ty)
            .unwrap_or_else(|e| panic!("case {case}: decode {bytes:02x?} as {ty}: {e}"));
        assert_eq!(back, v, "case {case}: {ty}");
        // Encoding is deterministic: the decoded value writes the same bytes.
        assert_eq!(msgpack::encode(&back, &ty).ok(), Some(bytes), "case {case}");
    }
}

#[test]
fn json_round_trips_random_known_values() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for case in 0..2000 {
        let ty = gen_type(&mut rng, 4);
        let v = gen_value(&mut rng, &ty, false, 3);
        let j = json::encode(&v, &ty)
            .unwrap_or_else(|e| panic!("case {case}: encode {v:?} as {ty}: {e}"));
        let text = serde_json::to_vec(&j).unwrap_or_default();
        let back = json::decode_bytes(&text, &ty).unwrap_or_else(|e| {
            panic!(
                "case {case}: decode {} as {ty}: {e}",
                String::from_utf8_lossy(&text)
            )
        });
        assert_eq!(back, v, "case {case}: {ty}");
    }
}

#[test]
fn damaged_msgpack_never_panics() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..1000 {
        let ty = gen_type(&mut rng, 3);
        let v = gen_value(&mut rng, &ty, true, 2);
        let Ok(mut bytes) = msgpack::encode(&v, &ty) else {
            continue;
        };
        // Every truncation must fail cleanly.
        for cut in 0..bytes.len() {
            let _ = msgpack::decode(bytes.get(..cut).unwrap_or_default(), &ty);
        }
        // Flipped bytes may decode to something else or fail, but never panic.
        for _ in 0..8 {
            if let Some(b) = bytes.get_mut(usize::try_from(rng.below(64)).unwrap_or(0)) {
                *b = u8::try_from(rng.below(256)).unwrap_or(0);
            }
            let _ = msgpack::decode(&bytes, &ty);
            let _ = msgpack::decode(&bytes, &Type::Dynamic);
        }
    }
    // Pure noise against a few types.
    for _ in 0..2000 {
        let noise: Vec<u8> = (0..rng.below(40))
            .map(|_| u8::try_from(rng.below(256)).unwrap_or(0))
            .collect();
        for ty in [Type::Dynamic, Type::list(Type::String), Type::Number] {
            let _ = msgpack::decode(&noise, &ty);
        }
    }
}
