//! Field numbers, enum values and service names are the wire contract with Terraform and
//! go-plugin, so a transcription slip in a `.proto` file breaks interop silently. Each
//! expectation below is the number in the upstream definition (hashicorp/terraform
//! `docs/plugin-protocol/tfplugin{5,6}.proto` as shipped in v1.15, hashicorp/go-plugin
//! `internal/plugin/*.proto`); the test encodes a message with prost and reads the tags
//! back with a decoder written here, independent of prost.

use coder_proto::{plugin, tfplugin5, tfplugin6};
use prost::Message;

const VARINT: u8 = 0;
const LEN: u8 = 2;

/// Top-level `(field number, wire type)` pairs of an encoded message, in order.
fn tags(mut buf: &[u8]) -> Vec<(u32, u8)> {
    fn varint(buf: &mut &[u8]) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let byte = buf[0];
            *buf = &buf[1..];
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return value;
            }
            shift += 7;
        }
    }

    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf);
        let (field, wire_type) = ((key >> 3) as u32, (key & 7) as u8);
        match wire_type {
            VARINT => {
                varint(&mut buf);
            }
            LEN => {
                let len = varint(&mut buf) as usize;
                buf = &buf[len..];
            }
            other => panic!("unexpected wire type {other} for field {field}"),
        }
        out.push((field, wire_type));
    }
    out
}

fn dynamic_value() -> tfplugin6::DynamicValue {
    tfplugin6::DynamicValue {
        msgpack: vec![0xc0],
        json: b"null".to_vec(),
    }
}

#[test]
fn tfplugin6_dynamic_value_msgpack_is_1_json_is_2() {
    let bytes = dynamic_value().encode_to_vec();
    assert_eq!(tags(&bytes), [(1, LEN), (2, LEN)]);
    // Exact bytes: key 0x0a = field 1/LEN, key 0x12 = field 2/LEN.
    assert_eq!(&bytes[..3], &[0x0a, 0x01, 0xc0]);
    assert_eq!(bytes[3], 0x12);
}

#[test]
fn tfplugin6_plan_resource_change_response_numbers() {
    let response = tfplugin6::plan_resource_change::Response {
        planned_state: Some(dynamic_value()),
        requires_replace: vec![tfplugin6::AttributePath::default()],
        planned_private: vec![1],
        diagnostics: vec![tfplugin6::Diagnostic::default()],
        legacy_type_system: true,
        deferred: Some(tfplugin6::Deferred::default()),
        planned_identity: Some(tfplugin6::ResourceIdentityData::default()),
    };
    assert_eq!(
        tags(&response.encode_to_vec()),
        [
            (1, LEN),    // planned_state
            (2, LEN),    // requires_replace
            (3, LEN),    // planned_private
            (4, LEN),    // diagnostics
            (5, VARINT), // legacy_type_system
            (6, LEN),    // deferred
            (7, LEN),    // planned_identity
        ]
    );
}

#[test]
fn tfplugin6_apply_resource_change_response_legacy_type_system_is_4() {
    let response = tfplugin6::apply_resource_change::Response {
        legacy_type_system: true,
        ..Default::default()
    };
    assert_eq!(tags(&response.encode_to_vec()), [(4, VARINT)]);
}

#[test]
fn tfplugin6_schema_attribute_numbers() {
    let attribute = tfplugin6::schema::Attribute {
        name: "id".into(),
        r#type: b"\"string\"".to_vec(),
        nested_type: Some(tfplugin6::schema::Object::default()),
        description: "d".into(),
        required: true,
        optional: true,
        computed: true,
        sensitive: true,
        description_kind: tfplugin6::StringKind::Markdown as i32,
        deprecated: true,
        write_only: true,
        deprecation_message: "m".into(),
    };
    let mut got = tags(&attribute.encode_to_vec());
    got.sort_unstable();
    assert_eq!(
        got,
        [
            (1, LEN),     // name
            (2, LEN),     // type
            (3, LEN),     // description
            (4, VARINT),  // required
            (5, VARINT),  // optional
            (6, VARINT),  // computed
            (7, VARINT),  // sensitive
            (8, VARINT),  // description_kind
            (9, VARINT),  // deprecated
            (10, LEN),    // nested_type
            (11, VARINT), // write_only
            (12, LEN),    // deprecation_message
        ]
    );
}

#[test]
fn tfplugin6_schema_enums() {
    use tfplugin6::schema::nested_block::NestingMode;
    assert_eq!(NestingMode::Invalid as i32, 0);
    assert_eq!(NestingMode::Single as i32, 1);
    assert_eq!(NestingMode::List as i32, 2);
    assert_eq!(NestingMode::Set as i32, 3);
    assert_eq!(NestingMode::Map as i32, 4);
    assert_eq!(NestingMode::Group as i32, 5);
    assert_eq!(tfplugin6::schema::object::NestingMode::Map as i32, 4);
    assert_eq!(tfplugin6::StringKind::Plain as i32, 0);
    assert_eq!(tfplugin6::StringKind::Markdown as i32, 1);
    assert_eq!(tfplugin6::diagnostic::Severity::Error as i32, 1);
    assert_eq!(tfplugin6::diagnostic::Severity::Warning as i32, 2);
}

#[test]
fn tfplugin6_attribute_path_step_selectors() {
    use tfplugin6::attribute_path::{step::Selector, Step};
    let step = |selector| Step {
        selector: Some(selector),
    };
    assert_eq!(
        tags(&step(Selector::AttributeName("a".into())).encode_to_vec()),
        [(1, LEN)]
    );
    assert_eq!(
        tags(&step(Selector::ElementKeyString("k".into())).encode_to_vec()),
        [(2, LEN)]
    );
    assert_eq!(
        tags(&step(Selector::ElementKeyInt(0)).encode_to_vec()),
        [(3, VARINT)]
    );
}

#[test]
fn tfplugin6_get_provider_schema_response_numbers() {
    let schema = || tfplugin6::Schema::default();
    let one = |s| std::iter::once(("x".to_string(), s)).collect();
    let response = tfplugin6::get_provider_schema::Response {
        provider: Some(schema()),
        resource_schemas: one(schema()),
        data_source_schemas: one(schema()),
        functions: std::iter::once(("f".to_string(), tfplugin6::Function::default())).collect(),
        ephemeral_resource_schemas: one(schema()),
        list_resource_schemas: one(schema()),
        state_store_schemas: one(schema()),
        action_schemas: std::iter::once(("a".to_string(), tfplugin6::ActionSchema::default()))
            .collect(),
        diagnostics: vec![tfplugin6::Diagnostic::default()],
        provider_meta: Some(schema()),
        server_capabilities: Some(tfplugin6::ServerCapabilities::default()),
    };
    let mut fields: Vec<u32> = tags(&response.encode_to_vec())
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, (1..=11).collect::<Vec<_>>());

    let only_provider_meta = tfplugin6::get_provider_schema::Response {
        provider_meta: Some(schema()),
        ..Default::default()
    };
    assert_eq!(tags(&only_provider_meta.encode_to_vec()), [(5, LEN)]);
    let only_capabilities = tfplugin6::get_provider_schema::Response {
        server_capabilities: Some(tfplugin6::ServerCapabilities::default()),
        ..Default::default()
    };
    assert_eq!(tags(&only_capabilities.encode_to_vec()), [(6, LEN)]);
}

#[test]
fn tfplugin6_server_capabilities_numbers() {
    let caps = tfplugin6::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: true,
        generate_resource_config: true,
    };
    assert_eq!(
        tags(&caps.encode_to_vec()),
        [(1, VARINT), (2, VARINT), (3, VARINT), (4, VARINT)]
    );
}

#[test]
fn tfplugin6_validate_provider_config_response_diagnostics_is_2() {
    // An upstream quirk worth pinning: this Response starts numbering at 2.
    let response = tfplugin6::validate_provider_config::Response {
        diagnostics: vec![tfplugin6::Diagnostic::default()],
    };
    assert_eq!(tags(&response.encode_to_vec()), [(2, LEN)]);
}

#[test]
fn tfplugin5_schema_attribute_write_only_is_10() {
    // v5 has no nested_type, so write_only took 10 (it is 11 in v6).
    let attribute = tfplugin5::schema::Attribute {
        write_only: true,
        ..Default::default()
    };
    assert_eq!(tags(&attribute.encode_to_vec()), [(10, VARINT)]);
    let attribute = tfplugin5::schema::Attribute {
        deprecation_message: "m".into(),
        ..Default::default()
    };
    assert_eq!(tags(&attribute.encode_to_vec()), [(11, LEN)]);
}

#[test]
fn tfplugin5_plan_and_prepare_numbers() {
    let plan = tfplugin5::plan_resource_change::Response {
        requires_replace: vec![tfplugin5::AttributePath::default()],
        legacy_type_system: true,
        ..Default::default()
    };
    assert_eq!(tags(&plan.encode_to_vec()), [(2, LEN), (5, VARINT)]);

    let prepare = tfplugin5::prepare_provider_config::Response {
        prepared_config: Some(tfplugin5::DynamicValue::default()),
        diagnostics: vec![tfplugin5::Diagnostic::default()],
    };
    assert_eq!(tags(&prepare.encode_to_vec()), [(1, LEN), (2, LEN)]);
}

#[test]
fn go_plugin_stdio_and_broker_numbers() {
    let data = plugin::StdioData {
        channel: plugin::stdio_data::Channel::Stderr as i32,
        data: b"x".to_vec(),
    };
    assert_eq!(tags(&data.encode_to_vec()), [(1, VARINT), (2, LEN)]);
    assert_eq!(plugin::stdio_data::Channel::Stdout as i32, 1);
    assert_eq!(plugin::stdio_data::Channel::Stderr as i32, 2);

    let conn = plugin::ConnInfo {
        service_id: 1,
        network: "unix".into(),
        address: "/tmp/x".into(),
        knock: Some(plugin::conn_info::Knock::default()),
    };
    assert_eq!(
        tags(&conn.encode_to_vec()),
        [(1, VARINT), (2, LEN), (3, LEN), (4, LEN)]
    );
}

#[test]
fn service_names_match_the_wire() {
    assert_eq!(
        tfplugin6::provider_server::SERVICE_NAME,
        "tfplugin6.Provider"
    );
    assert_eq!(
        tfplugin5::provider_server::SERVICE_NAME,
        "tfplugin5.Provider"
    );
    assert_eq!(
        tfplugin5::provisioner_server::SERVICE_NAME,
        "tfplugin5.Provisioner"
    );
    assert_eq!(
        plugin::grpc_controller_server::SERVICE_NAME,
        "plugin.GRPCController"
    );
    assert_eq!(
        plugin::grpc_broker_server::SERVICE_NAME,
        "plugin.GRPCBroker"
    );
    assert_eq!(plugin::grpc_stdio_server::SERVICE_NAME, "plugin.GRPCStdio");
}

#[test]
fn file_descriptor_set_lists_every_protocol_file() {
    let set = prost_types::FileDescriptorSet::decode(coder_proto::FILE_DESCRIPTOR_SET)
        .expect("FILE_DESCRIPTOR_SET decodes");
    let names: Vec<&str> = set.file.iter().map(|f| f.name()).collect();
    for expected in [
        "tfplugin5.proto",
        "tfplugin6.proto",
        "grpc_broker.proto",
        "grpc_controller.proto",
        "grpc_stdio.proto",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}
