//! The tfplugin5 and tfplugin6 `Provider` services. The two protocols carry the same messages
//! under a few different names, so one macro writes both adapters; each is a field-copying layer
//! over [`Dispatcher`].

/// Terraform asks for 64 MiB on schema calls and Go plugins accept up to 256 MiB; tonic's default
/// of 4 MiB would cut off large states and plans.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

macro_rules! protocol_adapter {
    (
        $proto:ident, $adapter:ident,
        get_schema: $get_schema:ident,
        validate_provider: $validate_provider:ident / $validate_provider_msg:ident,
        validate_resource: $validate_resource:ident / $validate_resource_msg:ident,
        validate_data_source: $validate_data:ident / $validate_data_msg:ident,
        configure: $configure:ident / $configure_msg:ident,
        stop: $stop:ident / $stop_msg:ident $(,)?
    ) => {
        pub mod $proto {
            use std::collections::HashMap;
            use std::sync::Arc;

            use coder_proto::$proto as pb;
            use tonic::{Request, Response, Status};

            use crate::cty::{AttributePath, PathStep};
            use crate::plugin::dispatch::{Dispatcher, Dv};
            use crate::schema::{self, Diagnostics, Nesting, Severity};

            type Reply<T> = Result<Response<T>, Status>;

            fn dv_in(dv: Option<pb::DynamicValue>) -> Option<Dv> {
                dv.map(|d| Dv {
                    msgpack: d.msgpack,
                    json: d.json,
                })
            }

            fn dv_out(dv: Option<Dv>) -> Option<pb::DynamicValue> {
                dv.map(|d| pb::DynamicValue {
                    msgpack: d.msgpack,
                    json: d.json,
                })
            }

            fn path_out(path: &AttributePath) -> pb::AttributePath {
                use pb::attribute_path::step::Selector;
                pb::AttributePath {
                    steps: path
                        .0
                        .iter()
                        .map(|step| pb::attribute_path::Step {
                            selector: Some(match step {
                                PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                                PathStep::Index(i) => Selector::ElementKeyInt(*i),
                            }),
                        })
                        .collect(),
                }
            }

            fn diagnostics_out(diags: Diagnostics) -> Vec<pb::Diagnostic> {
                use pb::diagnostic::Severity as S;
                diags
                    .into_iter()
                    .map(|d| pb::Diagnostic {
                        severity: match d.severity {
                            Severity::Error => S::Error as i32,
                            Severity::Warning => S::Warning as i32,
                        },
                        summary: d.summary,
                        detail: d.detail,
                        attribute: d.path.as_ref().map(path_out),
                    })
                    .collect()
            }

            fn block_out(block: &schema::Block, version: i64) -> pb::schema::Block {
                use pb::schema::nested_block::NestingMode;
                pb::schema::Block {
                    version,
                    description: block.description.clone(),
                    description_kind: pb::StringKind::Markdown as i32,
                    deprecated: block.deprecated,
                    attributes: block
                        .attributes
                        .iter()
                        .map(|a| pb::schema::Attribute {
                            name: a.name.clone(),
                            r#type: a.ty.to_json_bytes(),
                            description: a.description.clone(),
                            description_kind: pb::StringKind::Markdown as i32,
                            required: a.required,
                            optional: a.optional,
                            computed: a.computed,
                            sensitive: a.sensitive,
                            deprecated: a.deprecated.is_some(),
                            deprecation_message: a.deprecated.clone().unwrap_or_default(),
                            ..Default::default()
                        })
                        .collect(),
                    block_types: block
                        .blocks
                        .iter()
                        .map(|b| pb::schema::NestedBlock {
                            type_name: b.name.clone(),
                            block: Some(block_out(&b.block, 0)),
                            nesting: match b.nesting {
                                Nesting::Single => NestingMode::Single,
                                Nesting::List => NestingMode::List,
                                Nesting::Set => NestingMode::Set,
                                Nesting::Map => NestingMode::Map,
                                Nesting::Group => NestingMode::Group,
                            } as i32,
                            min_items: b.min_items as i64,
                            max_items: b.max_items as i64,
                        })
                        .collect(),
                    ..Default::default()
                }
            }

            fn schema_out(s: &schema::Schema) -> pb::Schema {
                pb::Schema {
                    version: s.version,
                    block: Some(block_out(&s.block, s.version)),
                }
            }

            pub struct $adapter(pub Arc<Dispatcher>);

            // Field sets differ slightly between protocol versions, so some struct updates are
            // no-ops in one expansion and needed in the other.
            #[allow(clippy::needless_update)]
            #[tonic::async_trait]
            impl pb::provider_server::Provider for $adapter {
                async fn get_metadata(
                    &self,
                    _request: Request<pb::get_metadata::Request>,
                ) -> Reply<pb::get_metadata::Response> {
                    let schemas = self.0.schemas();
                    Ok(Response::new(pb::get_metadata::Response {
                        server_capabilities: Some(pb::ServerCapabilities::default()),
                        resources: schemas
                            .resources
                            .keys()
                            .map(|name| pb::get_metadata::ResourceMetadata {
                                type_name: name.clone(),
                            })
                            .collect(),
                        data_sources: schemas
                            .data_sources
                            .keys()
                            .map(|name| pb::get_metadata::DataSourceMetadata {
                                type_name: name.clone(),
                            })
                            .collect(),
                        ..Default::default()
                    }))
                }

                async fn $get_schema(
                    &self,
                    _request: Request<pb::get_provider_schema::Request>,
                ) -> Reply<pb::get_provider_schema::Response> {
                    let schemas = self.0.schemas();
                    let map = |m: &std::collections::BTreeMap<String, schema::Schema>| {
                        m.iter()
                            .map(|(k, s)| (k.clone(), schema_out(s)))
                            .collect::<HashMap<_, _>>()
                    };
                    Ok(Response::new(pb::get_provider_schema::Response {
                        provider: Some(schema_out(&schemas.provider)),
                        resource_schemas: map(&schemas.resources),
                        data_source_schemas: map(&schemas.data_sources),
                        server_capabilities: Some(pb::ServerCapabilities {
                            // Our schema is static, so Terraform may reuse it across instances.
                            get_provider_schema_optional: true,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }))
                }

                async fn get_resource_identity_schemas(
                    &self,
                    _request: Request<pb::get_resource_identity_schemas::Request>,
                ) -> Reply<pb::get_resource_identity_schemas::Response> {
                    Ok(Response::new(Default::default()))
                }

                async fn $validate_provider(
                    &self,
                    request: Request<pb::$validate_provider_msg::Request>,
                ) -> Reply<pb::$validate_provider_msg::Response> {
                    let r = request.into_inner();
                    let diags = self.0.validate_provider_config(dv_in(r.config).as_ref());
                    Ok(Response::new(pb::$validate_provider_msg::Response {
                        diagnostics: diagnostics_out(diags),
                        ..Default::default()
                    }))
                }

                async fn $validate_resource(
                    &self,
                    request: Request<pb::$validate_resource_msg::Request>,
                ) -> Reply<pb::$validate_resource_msg::Response> {
                    let r = request.into_inner();
                    let diags = self
                        .0
                        .validate_resource_config(&r.type_name, dv_in(r.config).as_ref());
                    Ok(Response::new(pb::$validate_resource_msg::Response {
                        diagnostics: diagnostics_out(diags),
                    }))
                }

                async fn $validate_data(
                    &self,
                    request: Request<pb::$validate_data_msg::Request>,
                ) -> Reply<pb::$validate_data_msg::Response> {
                    let r = request.into_inner();
                    let diags = self
                        .0
                        .validate_data_source_config(&r.type_name, dv_in(r.config).as_ref());
                    Ok(Response::new(pb::$validate_data_msg::Response {
                        diagnostics: diagnostics_out(diags),
                    }))
                }

                async fn $configure(
                    &self,
                    request: Request<pb::$configure_msg::Request>,
                ) -> Reply<pb::$configure_msg::Response> {
                    let r = request.into_inner();
                    let diags = self.0.configure_provider(dv_in(r.config).as_ref());
                    Ok(Response::new(pb::$configure_msg::Response {
                        diagnostics: diagnostics_out(diags),
                    }))
                }

                async fn upgrade_resource_state(
                    &self,
                    request: Request<pb::upgrade_resource_state::Request>,
                ) -> Reply<pb::upgrade_resource_state::Response> {
                    let r = request.into_inner();
                    let raw = r.raw_state.unwrap_or_default();
                    let (state, diags) = self.0.upgrade_resource_state(
                        &r.type_name,
                        r.version,
                        raw.json,
                        raw.flatmap,
                    );
                    Ok(Response::new(pb::upgrade_resource_state::Response {
                        upgraded_state: dv_out(state),
                        diagnostics: diagnostics_out(diags),
                    }))
                }

                async fn read_resource(
                    &self,
                    request: Request<pb::read_resource::Request>,
                ) -> Reply<pb::read_resource::Response> {
                    let r = request.into_inner();
                    let out = self
                        .0
                        .read_resource(&r.type_name, dv_in(r.current_state), r.private);
                    Ok(Response::new(pb::read_resource::Response {
                        new_state: dv_out(out.state),
                        private: out.private,
                        diagnostics: diagnostics_out(out.diagnostics),
                        ..Default::default()
                    }))
                }

                async fn plan_resource_change(
                    &self,
                    request: Request<pb::plan_resource_change::Request>,
                ) -> Reply<pb::plan_resource_change::Response> {
                    let r = request.into_inner();
                    let out = self.0.plan_resource_change(
                        &r.type_name,
                        dv_in(r.prior_state).as_ref(),
                        dv_in(r.proposed_new_state).as_ref(),
                        dv_in(r.config).as_ref(),
                        r.prior_private,
                    );
                    Ok(Response::new(pb::plan_resource_change::Response {
                        planned_state: dv_out(out.planned_state),
                        requires_replace: out.requires_replace.iter().map(path_out).collect(),
                        planned_private: out.planned_private,
                        diagnostics: diagnostics_out(out.diagnostics),
                        ..Default::default()
                    }))
                }

                async fn apply_resource_change(
                    &self,
                    request: Request<pb::apply_resource_change::Request>,
                ) -> Reply<pb::apply_resource_change::Response> {
                    let r = request.into_inner();
                    let out = self.0.apply_resource_change(
                        &r.type_name,
                        dv_in(r.prior_state),
                        dv_in(r.planned_state).as_ref(),
                        dv_in(r.config).as_ref(),
                        r.planned_private,
                    );
                    Ok(Response::new(pb::apply_resource_change::Response {
                        new_state: dv_out(out.state),
                        private: out.private,
                        diagnostics: diagnostics_out(out.diagnostics),
                        ..Default::default()
                    }))
                }

                async fn import_resource_state(
                    &self,
                    request: Request<pb::import_resource_state::Request>,
                ) -> Reply<pb::import_resource_state::Response> {
                    let r = request.into_inner();
                    let diags = self.0.import_resource_state(&r.type_name, &r.id);
                    Ok(Response::new(pb::import_resource_state::Response {
                        diagnostics: diagnostics_out(diags),
                        ..Default::default()
                    }))
                }

                async fn read_data_source(
                    &self,
                    request: Request<pb::read_data_source::Request>,
                ) -> Reply<pb::read_data_source::Response> {
                    let r = request.into_inner();
                    let (state, diags) = self
                        .0
                        .read_data_source(&r.type_name, dv_in(r.config).as_ref());
                    Ok(Response::new(pb::read_data_source::Response {
                        state: dv_out(state),
                        diagnostics: diagnostics_out(diags),
                        ..Default::default()
                    }))
                }

                async fn $stop(
                    &self,
                    _request: Request<pb::$stop_msg::Request>,
                ) -> Reply<pb::$stop_msg::Response> {
                    self.0.stop();
                    Ok(Response::new(Default::default()))
                }
            }

            /// The tonic service for this protocol version, with raised message limits.
            pub fn service(
                dispatcher: Arc<Dispatcher>,
            ) -> pb::provider_server::ProviderServer<$adapter> {
                pb::provider_server::ProviderServer::new($adapter(dispatcher))
                    .max_decoding_message_size(super::MAX_MESSAGE_SIZE)
                    .max_encoding_message_size(super::MAX_MESSAGE_SIZE)
            }
        }
    };
}

protocol_adapter! {
    tfplugin6, ProviderV6,
    get_schema: get_provider_schema,
    validate_provider: validate_provider_config / validate_provider_config,
    validate_resource: validate_resource_config / validate_resource_config,
    validate_data_source: validate_data_resource_config / validate_data_resource_config,
    configure: configure_provider / configure_provider,
    stop: stop_provider / stop_provider,
}

protocol_adapter! {
    tfplugin5, ProviderV5,
    get_schema: get_schema,
    validate_provider: prepare_provider_config / prepare_provider_config,
    validate_resource: validate_resource_type_config / validate_resource_type_config,
    validate_data_source: validate_data_source_config / validate_data_source_config,
    configure: configure / configure,
    stop: stop / stop,
}
