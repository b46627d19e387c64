//! What the provider-side fuzz targets check, shared by the libFuzzer binaries in
//! `fuzz/fuzz_targets/` and by `provider/tests/fuzz_regressions.rs`, which replays the kept
//! reproducers and seeds on stable Rust. Every function takes raw fuzzer bytes and panics only
//! when the code under test misbehaves (a panic inside it, or a broken invariant below).
//!
//! Invariants:
//! - decoding never panics, whatever the bytes and the type;
//! - whatever msgpack decodes re-encodes, decodes back to an equal value, and that second
//!   encoding is byte-identical (the encoder is canonical);
//! - the same for JSON, which cannot carry unknowns;
//! - the provider never panics on values Terraform could send: any schema-conforming value
//!   with nulls and unknowns anywhere, through validate, plan, apply and read.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use terraform_provider_coder::cty::{self, Number, Type, Value};
use terraform_provider_coder::env::Env;
use terraform_provider_coder::plugin::dispatch::{Dispatcher, Dv};
use terraform_provider_coder::schema::ProviderServer;

/// The implied types of some real schemas, plus shapes the schemas do not use but the codecs
/// must handle (tuples, dynamic values, nested collections).
pub fn types() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let framework = terraform_provider_coder::provider::framework_with_env(build_env());
        let schemas = framework.schemas();
        let mut types = vec![schemas.provider.implied_type()];
        for name in ["coder_agent", "coder_app", "coder_metadata", "coder_script"] {
            if let Some(schema) = schemas.resources.get(name) {
                types.push(schema.implied_type());
            }
        }
        for name in [
            "coder_parameter",
            "coder_workspace",
            "coder_workspace_owner",
        ] {
            if let Some(schema) = schemas.data_sources.get(name) {
                types.push(schema.implied_type());
            }
        }
        types.extend([
            Type::Dynamic,
            Type::String,
            Type::Number,
            Type::list(Type::map(Type::Number)),
            Type::set(Type::object([
                ("a", Type::String),
                ("b", Type::list(Type::Bool)),
            ])),
            Type::tuple(vec![Type::String, Type::Number, Type::Dynamic]),
            Type::object([("v", Type::Dynamic), ("l", Type::list(Type::Dynamic))]),
        ]);
        types
    })
}

/// The environment of a workspace start build, fixed so runs are reproducible.
fn build_env() -> Env {
    Env::from_pairs([
        ("CODER_AGENT_URL", "https://coder.example.com"),
        ("CODER_WORKSPACE_TRANSITION", "start"),
        ("CODER_WORKSPACE_ID", "3b9d6f2e-7a41-4c58-b0e2-94d1c6a8f573"),
        ("CODER_WORKSPACE_NAME", "dev"),
        ("CODER_WORKSPACE_OWNER", "alice"),
        (
            "CODER_WORKSPACE_OWNER_ID",
            "6f1e4b8a-9c2d-4a7f-b3e5-0d8c2a6f4e19",
        ),
        ("CODER_WORKSPACE_OWNER_GROUPS", r#"["Everyone"]"#),
        (
            "CODER_WORKSPACE_OWNER_SESSION_TOKEN",
            "secret-session-token",
        ),
        (
            "CODER_WORKSPACE_BUILD_ID",
            "8e1c0f4a-2b7d-4c1e-9f3a-5d6b7c8e9f01",
        ),
        ("CODER_WORKSPACE_TEMPLATE_NAME", "docker"),
    ])
}

/// Picks a type with the first byte and decodes the rest as msgpack against it.
pub fn cty_msgpack(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ty = &types()[usize::from(selector) % types().len()];
    if let Ok(value) = cty::msgpack::decode(bytes, ty) {
        msgpack_round_trip(&value, ty);
    }
}

/// Picks a type with the first byte and decodes the rest as JSON against it.
pub fn cty_json(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ty = &types()[usize::from(selector) % types().len()];
    // Stored state reaches the provider as JSON through UpgradeResourceState.
    let resources: Vec<&String> = dispatcher().schemas().resources.keys().collect();
    let name = resources[usize::from(selector) % resources.len()];
    dispatcher().upgrade_resource_state(name, 0, bytes.to_vec(), Default::default());

    let Ok(value) = cty::json::decode_bytes(bytes, ty) else {
        return;
    };
    let encoded = match cty::json::encode(&value, ty) {
        Ok(encoded) => encoded,
        Err(e) => panic!("JSON-decoded {value:?} does not re-encode as {ty}: {e}"),
    };
    let again = match cty::json::decode(&encoded, ty) {
        Ok(again) => again,
        Err(e) => panic!("re-encoded JSON {encoded} does not decode as {ty}: {e}"),
    };
    assert_eq!(again, value, "JSON round trip changed the value ({ty})");
    // What JSON decodes is wholly known, so msgpack must carry it too.
    msgpack_round_trip(&value, ty);
}

fn msgpack_round_trip(value: &Value, ty: &Type) {
    let encoded = match cty::msgpack::encode(value, ty) {
        Ok(encoded) => encoded,
        Err(e) => panic!("decoded {value:?} does not re-encode as {ty}: {e}"),
    };
    let again = match cty::msgpack::decode(&encoded, ty) {
        Ok(again) => again,
        Err(e) => panic!("re-encoded {encoded:02x?} does not decode as {ty}: {e}"),
    };
    assert_eq!(&again, value, "msgpack round trip changed the value ({ty})");
    match cty::msgpack::encode(&again, ty) {
        Ok(second) => assert_eq!(second, encoded, "msgpack encoding is not canonical ({ty})"),
        Err(e) => panic!("second encoding of {again:?} as {ty} failed: {e}"),
    }
}

/// Two modes, chosen by the first byte: even, the rest is raw msgpack decoded against
/// `dynamic` and against object types with dynamic attributes (wire-level wrappers, ext
/// unknowns); odd, the rest drives a generator of schema-conforming values with unknowns
/// and nulls that go through the provider's dispatcher like Terraform's requests do.
pub fn dynamic_value(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode.is_multiple_of(2) {
        let dynamic_types = [
            Type::Dynamic,
            Type::object([("v", Type::Dynamic), ("l", Type::list(Type::Dynamic))]),
            Type::map(Type::Dynamic),
        ];
        let ty = &dynamic_types[usize::from(mode / 2) % dynamic_types.len()];
        if let Ok(value) = cty::msgpack::decode(rest, ty) {
            msgpack_round_trip(&value, ty);
        }
    } else {
        drive_provider(&mut Bytes(rest));
    }
}

fn dispatcher() -> &'static Dispatcher {
    static DISPATCHER: OnceLock<Dispatcher> = OnceLock::new();
    DISPATCHER.get_or_init(|| {
        let framework = terraform_provider_coder::provider::framework_with_env(build_env());
        Dispatcher::new(Arc::new(framework))
    })
}

fn drive_provider(input: &mut Bytes<'_>) {
    let dispatcher = dispatcher();
    let schemas = dispatcher.schemas();
    let resources: Vec<(&String, Type)> = schemas
        .resources
        .iter()
        .map(|(name, schema)| (name, schema.implied_type()))
        .collect();
    let data_sources: Vec<(&String, Type)> = schemas
        .data_sources
        .iter()
        .map(|(name, schema)| (name, schema.implied_type()))
        .collect();

    match input.byte() % 4 {
        0 => {
            let ty = schemas.provider.implied_type();
            let config = dv(&generate(input, &ty, 0), &ty);
            dispatcher.validate_provider_config(Some(&config));
            dispatcher.configure_provider(Some(&config));
        }
        1 => {
            let (name, ty) = &data_sources[usize::from(input.byte()) % data_sources.len()];
            let config = dv(&generate(input, ty, 0), ty);
            dispatcher.validate_data_source_config(name, Some(&config));
            dispatcher.read_data_source(name, Some(&config));
        }
        _ => {
            let (name, ty) = &resources[usize::from(input.byte()) % resources.len()];
            let config = dv(&generate(input, ty, 0), ty);
            let prior = if input.byte().is_multiple_of(2) {
                None
            } else {
                Some(dv(&generate(input, ty, 0), ty))
            };
            dispatcher.validate_resource_config(name, Some(&config));
            let planned = dispatcher.plan_resource_change(
                name,
                prior.as_ref(),
                Some(&config),
                Some(&config),
                Vec::new(),
            );
            if let Some(planned_state) = planned.planned_state {
                let applied = dispatcher.apply_resource_change(
                    name,
                    prior,
                    Some(&planned_state),
                    Some(&config),
                    planned.planned_private,
                );
                if let Some(state) = applied.state {
                    dispatcher.read_resource(name, Some(state), applied.private);
                }
            }
        }
    }
}

fn dv(value: &Value, ty: &Type) -> Dv {
    match cty::msgpack::encode(value, ty) {
        Ok(msgpack) => Dv {
            msgpack,
            json: Vec::new(),
        },
        Err(e) => panic!("a generated {ty} value does not encode: {e}: {value:?}"),
    }
}

/// Fuzzer bytes read front to back; zeros once they run out, so generation always ends.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

/// Strings the provider gives meaning to: identifiers, URLs, durations, JSON, templates.
const STRINGS: &[&str] = &[
    "",
    "main",
    "dev",
    "code-server",
    "a_b",
    "-bad-",
    "http://localhost:8080",
    "https://coder.example.com/path?x=1",
    "localhost:13337",
    "ftp://x",
    "owner",
    "authenticated",
    "public",
    "slim",
    "tab",
    "window",
    "string",
    "number",
    "bool",
    "list(string)",
    "[\"a\",\"b\"]",
    "{}",
    "1",
    "-1",
    "1e400",
    "0x10",
    "1_000",
    "true",
    "6f1e4b8a-9c2d-4a7f-b3e5-0d8c2a6f4e19",
    "linux",
    "amd64",
    "token",
    "10s",
    "* * * * *",
    "0 0 * * *",
    "\u{0}",
    "é",
    "${var.x}",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.5",
    "65535",
    "65536",
    "9223372036854775807",
    "18446744073709551616",
    "1e30",
    "-1e-30",
];

fn generate(input: &mut Bytes<'_>, ty: &Type, depth: usize) -> Value {
    // One value in eight is null, one unknown; the rest known.
    match input.byte() % 8 {
        0 => return Value::Null,
        1 => return Value::Unknown,
        _ => {}
    }
    // Keep generated values small enough for fast executions.
    let max_elements = if depth > 3 { 1 } else { 3 };
    match ty {
        Type::String => Value::String(generate_string(input)),
        Type::Number => {
            let pick = input.byte();
            if pick < 128 {
                Value::Number(Number::from_i64(i64::from(pick as i8)))
            } else {
                let text = NUMBERS[usize::from(pick) % NUMBERS.len()];
                Number::parse(text)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Type::Bool => Value::Bool(input.byte() % 2 == 1),
        Type::Dynamic => {
            let concrete = match input.byte() % 4 {
                0 => Type::String,
                1 => Type::Number,
                2 => Type::Bool,
                _ => Type::list(Type::String),
            };
            let inner = generate(input, &concrete, depth + 1);
            Value::Dynamic(concrete, Box::new(inner))
        }
        Type::List(element) => {
            let n = usize::from(input.byte()) % (max_elements + 1);
            Value::List(
                (0..n)
                    .map(|_| generate(input, element, depth + 1))
                    .collect(),
            )
        }
        Type::Set(element) => {
            let n = usize::from(input.byte()) % (max_elements + 1);
            Value::set(
                (0..n)
                    .map(|_| generate(input, element, depth + 1))
                    .collect(),
            )
        }
        Type::Map(element) => {
            let n = usize::from(input.byte()) % (max_elements + 1);
            let mut entries = BTreeMap::new();
            for _ in 0..n {
                let key = generate_string(input);
                entries.insert(key, generate(input, element, depth + 1));
            }
            Value::Map(entries)
        }
        Type::Object(attributes) => Value::Object(
            attributes
                .iter()
                .map(|(name, ty)| (name.clone(), generate(input, ty, depth + 1)))
                .collect(),
        ),
        Type::Tuple(elements) => Value::Tuple(
            elements
                .iter()
                .map(|ty| generate(input, ty, depth + 1))
                .collect(),
        ),
    }
}

fn generate_string(input: &mut Bytes<'_>) -> String {
    let pick = input.byte();
    if pick < 192 {
        return STRINGS[usize::from(pick) % STRINGS.len()].to_string();
    }
    let len = usize::from(input.byte() % 24);
    String::from_utf8_lossy(input.take(len)).into_owned()
}

/// Starting inputs for the three targets: for every type, a generated value (with unknowns
/// and nulls) and a null-attribute object, as msgpack and JSON; and a run of each provider
/// request kind. Written to `fuzz/seeds/` by `provider/tests/fuzz_regressions.rs`.
pub fn seed_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let patterns: [&[u8]; 3] = [&[2, 3, 4, 5, 6, 7], &[7, 1, 200, 9, 0, 3, 2], &[5; 64]];
    for (index, ty) in types().iter().enumerate() {
        let Ok(selector) = u8::try_from(index) else {
            continue;
        };
        let mut values = vec![Value::null_object(ty)];
        for pattern in patterns {
            values.push(generate(&mut Bytes(pattern), ty, 0));
        }
        for value in values {
            if let Ok(bytes) = cty::msgpack::encode(&value, ty) {
                seeds.push(("cty_msgpack", [&[selector][..], &bytes].concat()));
            }
            if *ty != Type::Dynamic {
                let wrapped = Value::Dynamic(ty.clone(), Box::new(value.clone()));
                if let Ok(bytes) = cty::msgpack::encode(&wrapped, &Type::Dynamic) {
                    seeds.push(("dynamic_value", [&[0u8][..], &bytes].concat()));
                }
            }
            if let Ok(json) = cty::json::encode(&value, ty) {
                seeds.push((
                    "cty_json",
                    [&[selector][..], json.to_string().as_bytes()].concat(),
                ));
            }
        }
    }
    for kind in 0u8..4 {
        for which in [0u8, 3, 7, 12] {
            let mut input = vec![1, kind, which, 1];
            input.extend(std::iter::repeat_n([2u8, 5, 9, 130, 3], 40).flatten());
            seeds.push(("dynamic_value", input));
        }
    }
    seeds
}
