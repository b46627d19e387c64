//! A light model of a template's root module, built from the HCL alone: its resources, data
//! sources, module calls, locals, variables and outputs, each with its attributes (literal
//! values where the source has them) and the references its expressions make.
//!
//! The static checks need exactly this and no more: no evaluation, no provider schemas. That is
//! what lets `validate` check templates whose providers (docker, kubernetes, aws) cannot be
//! installed. References are found in every expression form HCL has: traversals
//! (`coder_agent.main.init_script`), string and heredoc templates (`"${...}"`), function
//! arguments, conditionals, `for` expressions and collection constructors. Names bound by
//! `for` expressions, template `for` directives and `dynamic` blocks are not references.
//!
//! Both syntaxes are read: native `.tf` with hcl-edit (which keeps byte spans, so every item
//! has a line), and JSON `.tf.json`, whose strings are parsed as HCL templates as Terraform
//! does.

use std::collections::BTreeMap;

use hcl::edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl::edit::structure::{Block as HclBlock, BlockLabel, Body, Structure};
use hcl::edit::template::Directive;
use hcl::edit::visit::{self, Visit};
use hcl::edit::Span;
use serde_json::value::RawValue;

use crate::parse::SourcePos;

/// What kind of root-module item a [`Block`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlockKind {
    /// `resource "type" "name"` (a managed resource).
    Resource,
    /// `data "type" "name"`.
    Data,
    /// `module "name"`.
    Module,
    /// One entry of a `locals` block.
    Local,
    Variable,
    Output,
    Provider,
}

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Resource {
        ty: String,
        name: String,
    },
    Data {
        ty: String,
        name: String,
    },
    Module(String),
    Var(String),
    Local(String),
    /// `count.index`, `each.key`, `self`, `path.module`, `terraform.workspace`, an incomplete
    /// traversal: nothing a template declares.
    Other,
}

/// One reference in an expression: its target, the first attribute read from it (after any
/// index or splat: `coder_agent.main[0].token` reads `token`), and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: Target,
    /// `None` when the whole object is used (`depends_on = [coder_agent.main]`,
    /// `local.agent = coder_agent.main`).
    pub attr: Option<String>,
    pub line: usize,
}

/// A literal value written in the source. Anything computed is `None` on the attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// The number as written (`4`, `-3`, `1.5`).
    Number(String),
    String(String),
}

impl Literal {
    /// The text Terraform would convert this literal to for a string attribute; `None` for null.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Literal::Null => None,
            Literal::Bool(b) => Some(b.to_string()),
            Literal::Number(n) => Some(n.clone()),
            Literal::String(s) => Some(s.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub line: usize,
    pub literal: Option<Literal>,
    pub refs: Vec<Reference>,
}

/// A block nested in a resource (`lifecycle`, `healthcheck`, `option`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BodyModel {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub ident: String,
    pub line: usize,
    pub body: BodyModel,
}

impl BodyModel {
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn nested<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a NestedBlock> + 'a {
        self.blocks.iter().filter(move |b| b.ident == ident)
    }
}

/// One item of the root module.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: BlockKind,
    /// The resource or data source type; empty for other kinds.
    pub ty: String,
    pub name: String,
    pub pos: SourcePos,
    pub body: BodyModel,
    /// Every reference anywhere in the block, nested blocks included; names listed in
    /// `lifecycle.ignore_changes` are attribute names, not references, and are left out.
    pub refs: Vec<Reference>,
}

impl Block {
    /// `coder_agent.main`, `data.coder_workspace.me`, `module.x`, `local.x`, `var.x`.
    pub fn address(&self) -> String {
        match self.kind {
            BlockKind::Resource => format!("{}.{}", self.ty, self.name),
            BlockKind::Data => format!("data.{}.{}", self.ty, self.name),
            BlockKind::Module => format!("module.{}", self.name),
            BlockKind::Local => format!("local.{}", self.name),
            BlockKind::Variable => format!("var.{}", self.name),
            BlockKind::Output => format!("output.{}", self.name),
            BlockKind::Provider => format!("provider.{}", self.name),
        }
    }

    /// The target other blocks use to reference this one; `None` for outputs and providers.
    pub fn target(&self) -> Option<Target> {
        let (ty, name) = (self.ty.clone(), self.name.clone());
        match self.kind {
            BlockKind::Resource => Some(Target::Resource { ty, name }),
            BlockKind::Data => Some(Target::Data { ty, name }),
            BlockKind::Module => Some(Target::Module(name)),
            BlockKind::Local => Some(Target::Local(name)),
            BlockKind::Variable => Some(Target::Var(name)),
            BlockKind::Output | BlockKind::Provider => None,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.body.attr(name)
    }

    /// A literal string attribute's value.
    pub fn literal_text(&self, name: &str) -> Option<String> {
        self.attr(name)?.literal.as_ref()?.as_text()
    }

    pub fn is_coder(&self) -> bool {
        self.ty.starts_with("coder_")
    }
}

/// The root module of a template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateModel {
    pub blocks: Vec<Block>,
    /// Files that could not be modelled (they failed to parse), with why. Syntax errors are
    /// reported by the variable parser with HCL's wording; these only explain gaps.
    pub skipped: Vec<(String, String)>,
}

impl TemplateModel {
    /// Models `(file name, contents)` pairs; names not ending in `.tf` / `.tf.json` are ignored.
    pub fn from_sources(files: &[(String, String)]) -> TemplateModel {
        let mut model = TemplateModel::default();
        for (name, src) in files {
            let result = if name.ends_with(".tf.json") {
                json::model_file(name, src)
            } else if name.ends_with(".tf") {
                native::model_file(name, src)
            } else {
                continue;
            };
            match result {
                Ok(blocks) => model.blocks.extend(blocks),
                Err(why) => model.skipped.push((name.clone(), why)),
            }
        }
        model
    }

    pub fn of_kind(&self, kind: BlockKind) -> impl Iterator<Item = &Block> {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }

    pub fn resources_of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.of_kind(BlockKind::Resource)
            .filter(move |b| b.ty == ty)
    }

    pub fn data_of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.of_kind(BlockKind::Data).filter(move |b| b.ty == ty)
    }

    /// The block a reference points at, if the template declares it.
    pub fn resolve(&self, target: &Target) -> Option<&Block> {
        self.blocks
            .iter()
            .find(|b| b.target().as_ref() == Some(target))
    }
}

/// 1-based line of a byte offset.
fn line_at(src: &str, offset: usize) -> usize {
    let end = offset.min(src.len());
    src.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Turns a traversal's root name and its operators into a reference.
fn reference_from_parts(root: &str, steps: &[Step], line: usize) -> Reference {
    let name_at = |i: usize| match steps.get(i) {
        Some(Step::Attr(name)) => Some(name.clone()),
        _ => None,
    };
    // The first attribute read after the object itself, skipping `[0]`, `[*]`, `.*`.
    let attr_after = |i: usize| {
        steps.get(i..).and_then(|rest| {
            rest.iter().find_map(|s| match s {
                Step::Attr(name) => Some(name.clone()),
                Step::Other => None,
            })
        })
    };
    let (target, attr) = match root {
        "var" => (name_at(0).map(Target::Var), None),
        "local" => (name_at(0).map(Target::Local), attr_after(1)),
        "module" => (name_at(0).map(Target::Module), attr_after(1)),
        "data" => match (name_at(0), name_at(1)) {
            (Some(ty), Some(name)) => (Some(Target::Data { ty, name }), attr_after(2)),
            _ => (None, None),
        },
        "count" | "each" | "self" | "path" | "terraform" | "ephemeral" => (None, None),
        ty => (
            name_at(0).map(|name| Target::Resource {
                ty: ty.to_string(),
                name,
            }),
            attr_after(1),
        ),
    };
    Reference {
        target: target.unwrap_or(Target::Other),
        attr,
        line,
    }
}

#[derive(Debug, Clone)]
enum Step {
    Attr(String),
    Other,
}

/// Collects the references of expressions, keeping track of names bound by `for`.
struct RefCollector<'s> {
    src: &'s str,
    /// Line to use when an expression has no span (JSON templates are parsed from a string
    /// that is not the file, so their spans mean nothing in the file).
    fixed_line: Option<usize>,
    bound: Vec<String>,
    refs: Vec<Reference>,
}

impl<'s> RefCollector<'s> {
    fn new(src: &'s str, fixed_line: Option<usize>) -> Self {
        RefCollector {
            src,
            fixed_line,
            bound: Vec::new(),
            refs: Vec::new(),
        }
    }

    fn line_of_span(&self, span: Option<std::ops::Range<usize>>) -> usize {
        match (self.fixed_line, span) {
            (Some(line), _) => line,
            (None, Some(span)) => line_at(self.src, span.start),
            (None, None) => 1,
        }
    }
}

impl Visit for RefCollector<'_> {
    fn visit_traversal(&mut self, node: &Traversal) {
        if let Expression::Variable(root) = &node.expr {
            let root = root.as_str();
            if !self.bound.iter().any(|b| b == root) {
                let steps: Vec<Step> = node
                    .operators
                    .iter()
                    .map(|op| match op.value() {
                        TraversalOperator::GetAttr(ident) => Step::Attr(ident.as_str().to_string()),
                        _ => Step::Other,
                    })
                    .collect();
                let line = self.line_of_span(node.span());
                self.refs.push(reference_from_parts(root, &steps, line));
            }
        }
        // Index expressions may hold references of their own (`x[local.key]`).
        visit::visit_traversal(self, node);
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        // The collection is evaluated outside the loop's scope.
        self.visit_expr(&node.intro.collection_expr);
        let before = self.bound.len();
        if let Some(key) = &node.intro.key_var {
            self.bound.push(key.as_str().to_string());
        }
        self.bound.push(node.intro.value_var.as_str().to_string());
        if let Some(key_expr) = &node.key_expr {
            self.visit_expr(key_expr);
        }
        self.visit_expr(&node.value_expr);
        if let Some(cond) = &node.cond {
            self.visit_expr(&cond.expr);
        }
        self.bound.truncate(before);
    }

    fn visit_directive(&mut self, node: &Directive) {
        match node {
            Directive::For(for_directive) => {
                let intro = &for_directive.for_expr;
                self.visit_expr(&intro.collection_expr);
                let before = self.bound.len();
                if let Some(key) = &intro.key_var {
                    self.bound.push(key.as_str().to_string());
                }
                self.bound.push(intro.value_var.as_str().to_string());
                self.visit_template(&intro.template);
                self.bound.truncate(before);
            }
            Directive::If(_) => visit::visit_directive(self, node),
        }
    }
}

mod native {
    //! `.tf` files.

    use super::*;

    pub(super) fn model_file(filename: &str, src: &str) -> Result<Vec<Block>, String> {
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        let body = hcl::edit::parser::parse_body(src).map_err(|e| e.message().to_string())?;
        let mut blocks = Vec::new();
        for block in body.blocks() {
            let labels: Vec<String> = block.labels.iter().map(label_text).collect();
            let pos = SourcePos {
                filename: filename.to_string(),
                line: block
                    .ident
                    .span()
                    .map_or(1, |span| line_at(src, span.start)),
            };
            let (kind, ty, name) = match (block.ident.as_str(), labels.as_slice()) {
                ("resource", [ty, name]) => (BlockKind::Resource, ty.clone(), name.clone()),
                ("data", [ty, name]) => (BlockKind::Data, ty.clone(), name.clone()),
                ("module", [name]) => (BlockKind::Module, String::new(), name.clone()),
                ("variable", [name]) => (BlockKind::Variable, String::new(), name.clone()),
                ("output", [name]) => (BlockKind::Output, String::new(), name.clone()),
                ("provider", [name]) => (BlockKind::Provider, String::new(), name.clone()),
                ("locals", []) => {
                    for attr in block.body.attributes() {
                        let attribute = model_attribute(src, attr);
                        blocks.push(Block {
                            kind: BlockKind::Local,
                            ty: String::new(),
                            name: attribute.name.clone(),
                            pos: SourcePos {
                                filename: filename.to_string(),
                                line: attribute.line,
                            },
                            refs: attribute.refs.clone(),
                            body: BodyModel {
                                attributes: vec![attribute],
                                blocks: Vec::new(),
                            },
                        });
                    }
                    continue;
                }
                // Blocks with missing or extra labels are the variable parser's to report.
                _ => continue,
            };
            let mut collector = RefCollector::new(src, None);
            collect_body_refs(&mut collector, &block.body);
            blocks.push(Block {
                kind,
                ty,
                name,
                pos,
                body: model_body(src, &block.body),
                refs: collector.refs,
            });
        }
        Ok(blocks)
    }

    fn label_text(label: &BlockLabel) -> String {
        match label {
            BlockLabel::Ident(ident) => ident.as_str().to_string(),
            BlockLabel::String(string) => string.value().to_string(),
        }
    }

    /// References of a body, without `lifecycle.ignore_changes` (attribute names) and with a
    /// `dynamic` block's iterator name bound inside its content.
    fn collect_body_refs(collector: &mut RefCollector<'_>, body: &Body) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => collector.visit_expr(&attr.value),
                Structure::Block(block) => collect_block_refs(collector, block),
            }
        }
    }

    fn collect_block_refs(collector: &mut RefCollector<'_>, block: &HclBlock) {
        match block.ident.as_str() {
            "lifecycle" => {
                for attr in block.body.attributes() {
                    if attr.key.as_str() != "ignore_changes" {
                        collector.visit_expr(&attr.value);
                    }
                }
                for nested in block.body.blocks() {
                    collect_block_refs(collector, nested);
                }
            }
            "dynamic" => {
                let iterator = block
                    .body
                    .get_attribute("iterator")
                    .and_then(|a| match &a.value {
                        Expression::Variable(v) => Some(v.as_str().to_string()),
                        _ => None,
                    })
                    .or_else(|| block.labels.first().map(label_text));
                let before = collector.bound.len();
                if let Some(name) = iterator {
                    collector.bound.push(name);
                }
                collect_body_refs(collector, &block.body);
                collector.bound.truncate(before);
            }
            _ => collect_body_refs(collector, &block.body),
        }
    }

    fn model_body(src: &str, body: &Body) -> BodyModel {
        BodyModel {
            attributes: body.attributes().map(|a| model_attribute(src, a)).collect(),
            blocks: body
                .blocks()
                .map(|b| NestedBlock {
                    ident: b.ident.as_str().to_string(),
                    line: b.ident.span().map_or(1, |span| line_at(src, span.start)),
                    body: model_body(src, &b.body),
                })
                .collect(),
        }
    }

    fn model_attribute(src: &str, attr: &hcl::edit::structure::Attribute) -> Attribute {
        let mut collector = RefCollector::new(src, None);
        collector.visit_expr(&attr.value);
        Attribute {
            name: attr.key.as_str().to_string(),
            line: attr.key.span().map_or(1, |span| line_at(src, span.start)),
            literal: literal_of(&attr.value),
            refs: collector.refs,
        }
    }

    pub(super) fn literal_of(expr: &Expression) -> Option<Literal> {
        match expr {
            Expression::Null(_) => Some(Literal::Null),
            Expression::Bool(b) => Some(Literal::Bool(*b.value())),
            Expression::Number(n) => Some(Literal::Number(n.value().to_string())),
            Expression::String(s) => Some(Literal::String(s.value().clone())),
            Expression::Parenthesis(p) => literal_of(p.inner()),
            Expression::UnaryOp(op) => match (op.operator.value(), literal_of(&op.expr)) {
                (hcl::edit::expr::UnaryOperator::Neg, Some(Literal::Number(n))) => {
                    Some(Literal::Number(format!("-{n}")))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

mod json {
    //! `.tf.json` files: objects are blocks, strings are templates (`"${...}"`).

    use super::*;

    type Entries<'a> = BTreeMap<String, &'a RawValue>;

    struct JsonSource<'a> {
        filename: &'a str,
        src: &'a str,
    }

    impl JsonSource<'_> {
        fn line(&self, raw: &RawValue) -> usize {
            // `RawValue` borrows from `src`, so the difference of the addresses is the offset.
            let offset = (raw.get().as_ptr() as usize).saturating_sub(self.src.as_ptr() as usize);
            line_at(self.src, offset)
        }
    }

    fn entries(raw: &RawValue) -> Option<Entries<'_>> {
        serde_json::from_str(raw.get()).ok()
    }

    /// An object, or each object of an array (HCL's JSON syntax allows both for blocks).
    fn objects(raw: &RawValue) -> Vec<Entries<'_>> {
        if let Some(one) = entries(raw) {
            return vec![one];
        }
        serde_json::from_str::<Vec<&RawValue>>(raw.get())
            .map(|items| items.into_iter().filter_map(entries).collect())
            .unwrap_or_default()
    }

    pub(super) fn model_file(filename: &str, src: &str) -> Result<Vec<Block>, String> {
        let file = JsonSource { filename, src };
        let root: &RawValue = serde_json::from_str(src).map_err(|e| e.to_string())?;
        let root = entries(root).ok_or("the root of a .tf.json file must be an object")?;
        let mut blocks = Vec::new();
        for (key, value) in root {
            match key.as_str() {
                "resource" | "data" => {
                    let kind = if key == "resource" {
                        BlockKind::Resource
                    } else {
                        BlockKind::Data
                    };
                    for by_type in objects(value) {
                        for (ty, by_name) in by_type {
                            for names in objects(by_name) {
                                for (name, raw_body) in names {
                                    for body in objects(raw_body) {
                                        blocks.push(block(&file, kind, &ty, &name, body, raw_body));
                                    }
                                }
                            }
                        }
                    }
                }
                "module" | "variable" | "output" | "provider" => {
                    let kind = match key.as_str() {
                        "module" => BlockKind::Module,
                        "variable" => BlockKind::Variable,
                        "output" => BlockKind::Output,
                        _ => BlockKind::Provider,
                    };
                    for names in objects(value) {
                        for (name, body) in names {
                            for body_entries in objects(body) {
                                blocks.push(block(&file, kind, "", &name, body_entries, body));
                            }
                        }
                    }
                }
                "locals" => {
                    for locals in objects(value) {
                        for (name, raw) in locals {
                            let attribute = attribute(&file, &name, raw);
                            blocks.push(Block {
                                kind: BlockKind::Local,
                                ty: String::new(),
                                name,
                                pos: SourcePos {
                                    filename: filename.to_string(),
                                    line: attribute.line,
                                },
                                refs: attribute.refs.clone(),
                                body: BodyModel {
                                    attributes: vec![attribute],
                                    blocks: Vec::new(),
                                },
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(blocks)
    }

    fn block(
        file: &JsonSource<'_>,
        kind: BlockKind,
        ty: &str,
        name: &str,
        body: Entries<'_>,
        at: &RawValue,
    ) -> Block {
        let body = model_body(file, body);
        let mut refs = Vec::new();
        collect_refs(&body, &mut refs);
        Block {
            kind,
            ty: ty.to_string(),
            name: name.to_string(),
            pos: SourcePos {
                filename: file.filename.to_string(),
                line: file.line(at),
            },
            body,
            refs,
        }
    }

    fn collect_refs(body: &BodyModel, refs: &mut Vec<Reference>) {
        refs.extend(body.attributes.iter().flat_map(|a| a.refs.iter().cloned()));
        for nested in &body.blocks {
            if nested.ident == "lifecycle" {
                let kept = nested
                    .body
                    .attributes
                    .iter()
                    .filter(|a| a.name != "ignore_changes");
                refs.extend(kept.flat_map(|a| a.refs.iter().cloned()));
            }
        }
    }

    fn model_body(file: &JsonSource<'_>, body: Entries<'_>) -> BodyModel {
        let mut model = BodyModel::default();
        for (key, raw) in body {
            if key == "//" {
                continue; // HCL's JSON comment key.
            }
            // Without the provider's schema an object may be a nested block or an object
            // value; it is recorded as both, which is all the checks need.
            for nested in objects(raw) {
                model.blocks.push(NestedBlock {
                    ident: key.clone(),
                    line: file.line(raw),
                    body: model_body(file, nested),
                });
            }
            if key != "lifecycle" {
                model.attributes.push(attribute(file, &key, raw));
            }
        }
        model
    }

    fn attribute(file: &JsonSource<'_>, name: &str, raw: &RawValue) -> Attribute {
        let line = file.line(raw);
        let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
        let mut refs = Vec::new();
        // `depends_on` and `ignore_changes` hold bare references, everything else templates.
        let bare = matches!(
            name,
            "depends_on" | "ignore_changes" | "replace_triggered_by"
        );
        collect_value_refs(&value, line, bare, &mut refs);
        let literal = match &value {
            serde_json::Value::Null => Some(Literal::Null),
            serde_json::Value::Bool(b) => Some(Literal::Bool(*b)),
            serde_json::Value::Number(n) => Some(Literal::Number(n.to_string())),
            serde_json::Value::String(s) if !s.contains("${") && !s.contains("%{") => {
                Some(Literal::String(s.clone()))
            }
            _ => None,
        };
        Attribute {
            name: name.to_string(),
            line,
            literal,
            refs,
        }
    }

    fn collect_value_refs(
        value: &serde_json::Value,
        line: usize,
        bare: bool,
        refs: &mut Vec<Reference>,
    ) {
        match value {
            serde_json::Value::String(s) => {
                let mut collector = RefCollector::new("", Some(line));
                if bare {
                    if let Ok(expr) = hcl::edit::parser::parse_expr(s) {
                        collector.visit_expr(&expr);
                    }
                } else if let Ok(template) = hcl::edit::parser::parse_template(s) {
                    collector.visit_template(&template);
                }
                refs.extend(collector.refs);
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    collect_value_refs(item, line, bare, refs);
                }
            }
            serde_json::Value::Object(map) => {
                for item in map.values() {
                    collect_value_refs(item, line, bare, refs);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(src: &str) -> TemplateModel {
        TemplateModel::from_sources(&[("main.tf".to_string(), src.to_string())])
    }

    fn refs_of(model: &TemplateModel, address: &str) -> Vec<(Target, Option<String>, usize)> {
        let block = model
            .blocks
            .iter()
            .find(|b| b.address() == address)
            .unwrap_or_else(|| panic!("no block {address}"));
        block
            .refs
            .iter()
            .map(|r| (r.target.clone(), r.attr.clone(), r.line))
            .collect()
    }

    fn agent() -> Target {
        Target::Resource {
            ty: "coder_agent".into(),
            name: "main".into(),
        }
    }

    #[test]
    fn blocks_have_kinds_addresses_and_lines() {
        let m = model(
            "resource \"coder_agent\" \"main\" {\n  os = \"linux\"\n}\n\ndata \"coder_workspace\" \"me\" {}\nlocals {\n  a = 1\n  b = \"x\"\n}\nmodule \"m\" {\n  source = \"./m\"\n}\n",
        );
        let summary: Vec<_> = m.blocks.iter().map(|b| (b.address(), b.pos.line)).collect();
        assert_eq!(
            summary,
            vec![
                ("coder_agent.main".to_string(), 1),
                ("data.coder_workspace.me".to_string(), 5),
                ("local.a".to_string(), 7),
                ("local.b".to_string(), 8),
                ("module.m".to_string(), 10),
            ]
        );
        assert_eq!(m.blocks[0].literal_text("os"), Some("linux".to_string()));
    }

    #[test]
    fn references_in_traversals_templates_functions_and_heredocs() {
        let m = model(
            r#"resource "docker_container" "w" {
  count      = data.coder_workspace.me.start_count
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "a", "b")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  user_data  = <<-EOT
    echo ${base64encode(local.script)}
  EOT
  depends_on = [coder_agent.main]
}
"#,
        );
        let refs = refs_of(&m, "docker_container.w");
        assert_eq!(
            refs,
            vec![
                (
                    Target::Data {
                        ty: "coder_workspace".into(),
                        name: "me".into()
                    },
                    Some("start_count".into()),
                    2
                ),
                (agent(), Some("init_script".into()), 3),
                (agent(), Some("token".into()), 4),
                (Target::Local("script".into()), None, 6),
                (agent(), None, 8),
            ]
        );
    }

    #[test]
    fn index_and_splat_are_skipped_to_the_attribute() {
        let m = model(
            "locals {\n  a = coder_agent.main[0].token\n  b = coder_agent.main[*].init_script\n  c = coder_agent.main.*.id\n}\n",
        );
        let attrs: Vec<_> = m
            .blocks
            .iter()
            .flat_map(|b| b.refs.iter().map(|r| r.attr.clone()))
            .collect();
        assert_eq!(
            attrs,
            vec![
                Some("token".into()),
                Some("init_script".into()),
                Some("id".into())
            ]
        );
    }

    #[test]
    fn for_and_dynamic_bindings_are_not_references() {
        let m = model(
            r#"resource "x" "y" {
  a = [for s in var.items : s.name]
  b = "%{for k, v in var.map}${k}=${v.x}%{endfor}"
  dynamic "setting" {
    for_each = var.settings
    content {
      name = setting.value.name
    }
  }
  lifecycle {
    ignore_changes = [ami]
  }
}
"#,
        );
        let targets: Vec<_> = refs_of(&m, "x.y").into_iter().map(|r| r.0).collect();
        assert_eq!(
            targets,
            vec![
                Target::Var("items".into()),
                Target::Var("map".into()),
                Target::Var("settings".into()),
            ]
        );
    }

    #[test]
    fn literals() {
        let m = model(
            "data \"coder_parameter\" \"p\" {\n  a = \"s\"\n  b = 4\n  c = -3\n  d = true\n  e = null\n  f = \"${var.x}\"\n}\n",
        );
        let block = &m.blocks[0];
        let lit = |n: &str| block.attr(n).and_then(|a| a.literal.clone());
        assert_eq!(lit("a"), Some(Literal::String("s".into())));
        assert_eq!(lit("b"), Some(Literal::Number("4".into())));
        assert_eq!(lit("c"), Some(Literal::Number("-3".into())));
        assert_eq!(lit("d"), Some(Literal::Bool(true)));
        assert_eq!(lit("e"), Some(Literal::Null));
        assert_eq!(lit("f"), None);
    }

    #[test]
    fn json_files_are_modelled_with_lines() {
        let src = r#"{
  "resource": {
    "coder_agent": {
      "main": {"os": "linux", "arch": "amd64"}
    },
    "null_resource": {
      "dev": {
        "count": "${data.coder_workspace.me.start_count}",
        "triggers": {"script": "${coder_agent.main.init_script}"},
        "depends_on": ["coder_agent.main"]
      }
    }
  }
}"#;
        let m = TemplateModel::from_sources(&[("main.tf.json".to_string(), src.to_string())]);
        assert!(m.skipped.is_empty(), "{:?}", m.skipped);
        let agent_block = m
            .blocks
            .iter()
            .find(|b| b.ty == "coder_agent")
            .expect("agent");
        assert_eq!(agent_block.pos.line, 4);
        let refs = refs_of(&m, "null_resource.dev");
        assert!(
            refs.contains(&(agent(), Some("init_script".into()), 9)),
            "{refs:?}"
        );
        assert!(refs.contains(&(agent(), None, 10)), "{refs:?}");
        let dev = m
            .blocks
            .iter()
            .find(|b| b.ty == "null_resource")
            .expect("dev");
        assert!(dev.attr("count").is_some());
    }

    #[test]
    fn unparsable_files_are_skipped_with_a_reason() {
        let m = model("resource \"a\" {");
        assert!(m.blocks.is_empty());
        assert_eq!(m.skipped.len(), 1);
    }
}
