//! The schema model: attributes, nested blocks and their flags, declared once per type with a
//! builder, and the implied cty type Terraform derives from them.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cty::{AttributePath, Type, Value};

use super::diag::Diagnostic;

/// A check run on a configured, known, non-null value. It receives the attribute's path so its
/// messages can name the attribute the way upstream does (`AttributePath::flat_key`).
pub type ValidateFn = dyn Fn(&Value, &AttributePath) -> Vec<Diagnostic> + Send + Sync;

#[derive(Clone)]
pub struct Validator(pub Arc<ValidateFn>);

impl Validator {
    pub fn new(
        f: impl Fn(&Value, &AttributePath) -> Vec<Diagnostic> + Send + Sync + 'static,
    ) -> Self {
        Validator(Arc::new(f))
    }

    pub fn check(&self, value: &Value, path: &AttributePath) -> Vec<Diagnostic> {
        (self.0)(value, path)
    }
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Validator")
    }
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Planned when the configuration leaves the attribute null. An attribute with a default is
    /// Optional+Computed on the wire, so Terraform accepts the planned default.
    pub default: Option<Value>,
    /// A change to this attribute replaces the object.
    pub force_new: bool,
    /// Deprecation message; setting the attribute then warns "Argument is deprecated".
    pub deprecated: Option<String>,
    pub validators: Vec<Validator>,
    /// Flat keys (`url`, `validation.0.min`) that may not be set together with this attribute.
    pub conflicts_with: Vec<String>,
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            default: None,
            force_new: false,
            deprecated: None,
            validators: Vec::new(),
            conflicts_with: Vec::new(),
        }
    }

    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }

    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }

    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn map_of_string(name: &str) -> Self {
        Self::new(name, Type::Map(Box::new(Type::String)))
    }

    pub fn list_of_string(name: &str) -> Self {
        Self::new(name, Type::List(Box::new(Type::String)))
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }

    /// Set by the provider only.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Set by the user, or by the provider when the user leaves it out.
    pub fn optional_computed(self) -> Self {
        self.optional().computed()
    }

    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.optional_computed()
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecated = Some(message.to_string());
        self
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    pub fn validate(mut self, validator: Validator) -> Self {
        self.validators.push(validator);
        self
    }

    pub fn conflicts_with(mut self, keys: &[&str]) -> Self {
        self.conflicts_with
            .extend(keys.iter().map(|k| k.to_string()));
        self
    }

    /// Configurable by the user at all (as opposed to computed-only).
    pub fn is_configurable(&self) -> bool {
        self.required || self.optional
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: u64,
    pub max_items: u64,
    pub force_new: bool,
    pub deprecated: Option<String>,
    pub conflicts_with: Vec<String>,
}

impl NestedBlock {
    pub fn new(name: &str, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            name: name.to_string(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
            force_new: false,
            deprecated: None,
            conflicts_with: Vec::new(),
        }
    }

    pub fn list(name: &str, block: Block) -> Self {
        Self::new(name, Nesting::List, block)
    }

    pub fn set(name: &str, block: Block) -> Self {
        Self::new(name, Nesting::Set, block)
    }

    pub fn min(mut self, n: u64) -> Self {
        self.min_items = n;
        self
    }

    pub fn max(mut self, n: u64) -> Self {
        self.max_items = n;
        self
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecated = Some(message.to_string());
        self
    }

    pub fn conflicts_with(mut self, keys: &[&str]) -> Self {
        self.conflicts_with
            .extend(keys.iter().map(|k| k.to_string()));
        self
    }

    /// The cty type of this block type's value inside its parent object.
    pub fn implied_type(&self) -> Type {
        let inner = self.block.implied_type();
        match self.nesting {
            Nesting::Single | Nesting::Group => inner,
            Nesting::List => Type::List(Box::new(inner)),
            Nesting::Set => Type::Set(Box::new(inner)),
            Nesting::Map => Type::Map(Box::new(inner)),
        }
    }

    /// The value of this block type when the configuration has no such block.
    pub fn empty_value(&self) -> Value {
        match self.nesting {
            Nesting::Single => Value::Null,
            Nesting::Group => self.block.null_object(),
            Nesting::List => Value::List(Vec::new()),
            Nesting::Set => Value::Set(Vec::new()),
            Nesting::Map => Value::Map(BTreeMap::new()),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub deprecated: bool,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new() -> Self {
        Block::default()
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    pub fn attr(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn nested(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    pub fn implied_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            attrs.insert(b.name.clone(), b.implied_type());
        }
        Type::Object(attrs)
    }

    /// An object of this block's shape with every attribute null and every block type empty.
    pub fn null_object(&self) -> Value {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            attrs.insert(b.name.clone(), b.empty_value());
        }
        Value::Object(attrs)
    }
}

/// The schema of a provider configuration, a resource type or a data source.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(description: &str) -> Self {
        Schema {
            version: 0,
            block: Block::new().describe(description),
        }
    }

    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    pub fn attr(mut self, attribute: Attribute) -> Self {
        self.block.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.block.blocks.push(block);
        self
    }

    pub fn implied_type(&self) -> Type {
        self.block.implied_type()
    }

    /// SDKv2 gives every type an `id` (Optional+Computed) unless it declares one; templates and
    /// state written for the upstream provider rely on it, so we do the same.
    pub(crate) fn with_implicit_id(mut self) -> Self {
        if self.block.attribute("id").is_none() {
            self.block
                .attributes
                .insert(0, Attribute::string("id").optional_computed());
        }
        self
    }
}
