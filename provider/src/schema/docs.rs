//! Registry-style documentation rendered from a schema (the layout `tfplugindocs` produces):
//! front matter, description, example usage, then "Schema" with Required / Optional / Read-Only
//! sections and one "Nested Schema" section per block.

use std::fmt::Write;

use crate::cty::Type;

use super::model::{Attribute, Block, NestedBlock, Nesting, Schema};

/// What kind of page: decides the title suffix and the default id description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    Provider,
    Resource,
    DataSource,
}

impl PageKind {
    fn label(self) -> &'static str {
        match self {
            PageKind::Provider => "Provider",
            PageKind::Resource => "Resource",
            PageKind::DataSource => "Data Source",
        }
    }
}

pub struct Page<'a> {
    pub kind: PageKind,
    /// Type name, or the provider's name for the index page.
    pub name: &'a str,
    /// Binary name shown in the page title, e.g. `terraform-provider-coder`.
    pub program: &'a str,
    pub schema: &'a Schema,
    /// HCL shown under "Example Usage".
    pub example: Option<&'a str>,
}

fn type_label(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_label(e)),
        Type::Set(e) => format!("Set of {}", type_label(e)),
        Type::Map(e) => format!("Map of {}", type_label(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn anchor(prefix: &str, path: &str) -> String {
    format!("{prefix}--{}", path.replace('.', "--"))
}

fn attribute_line(out: &mut String, a: &Attribute) {
    let mut flags = vec![type_label(&a.ty)];
    if a.sensitive {
        flags.push("Sensitive".into());
    }
    if a.deprecated.is_some() {
        flags.push("Deprecated".into());
    }
    let mut text = a.description.trim().to_string();
    if text.is_empty() && a.name == "id" {
        text = "The ID of this resource.".to_string();
    }
    if let Some(message) = &a.deprecated {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("**Deprecated:** {}", message.trim()));
    }
    if let Some(default) = &a.default {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("Defaults to `{}`.", default_text(default)));
    }
    let sep = if text.is_empty() { "" } else { " " };
    let _ = writeln!(out, "- `{}` ({}){sep}{text}", a.name, flags.join(", "));
}

fn default_text(v: &crate::cty::Value) -> String {
    match v {
        crate::cty::Value::String(s) => format!("{s:?}"),
        crate::cty::Value::Bool(b) => b.to_string(),
        crate::cty::Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

fn block_line(out: &mut String, b: &NestedBlock, path: &str) {
    let kind = match b.nesting {
        Nesting::Single | Nesting::Group => "Block".to_string(),
        Nesting::List => "Block List".to_string(),
        Nesting::Set => "Block Set".to_string(),
        Nesting::Map => "Block Map".to_string(),
    };
    let mut flags = vec![kind];
    if b.min_items > 0 {
        flags.push(format!("Min: {}", b.min_items));
    }
    if b.max_items > 0 {
        flags.push(format!("Max: {}", b.max_items));
    }
    if b.deprecated.is_some() {
        flags.push("Deprecated".into());
    }
    // tfplugindocs puts a block's description between its flags and the nested-schema link.
    let mut text = String::new();
    let description = b.block.description.trim();
    if !description.is_empty() {
        text.push(' ');
        text.push_str(description);
    }
    if let Some(message) = &b.deprecated {
        text.push_str(&format!(" **Deprecated:** {}", message.trim()));
    }
    let _ = writeln!(
        out,
        "- `{}` ({}){text} (see [below for nested schema](#{}))",
        b.name,
        flags.join(", "),
        anchor("nestedblock", path)
    );
}

/// Writes the Required / Optional / Read-Only lists of one block, then its nested blocks.
fn block_sections(
    out: &mut String,
    block: &Block,
    prefix: &str,
    heading_level: &str,
    label_style: bool,
) {
    // The Registry lists every section alphabetically.
    let mut attributes: Vec<&Attribute> = block.attributes.iter().collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut blocks: Vec<&NestedBlock> = block.blocks.iter().collect();
    blocks.sort_by(|a, b| a.name.cmp(&b.name));
    let required: Vec<&Attribute> = attributes.iter().copied().filter(|a| a.required).collect();
    let optional: Vec<&Attribute> = attributes.iter().copied().filter(|a| a.optional).collect();
    let read_only: Vec<&Attribute> = attributes
        .iter()
        .copied()
        .filter(|a| a.computed && !a.optional && !a.required)
        .collect();
    let required_blocks: Vec<&NestedBlock> =
        blocks.iter().copied().filter(|b| b.min_items > 0).collect();
    let optional_blocks: Vec<&NestedBlock> = blocks
        .iter()
        .copied()
        .filter(|b| b.min_items == 0)
        .collect();
    let path_of = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let mut section = |title: &str, attrs: &[&Attribute], blocks: &[&NestedBlock]| {
        if attrs.is_empty() && blocks.is_empty() {
            return;
        }
        if label_style {
            let _ = writeln!(out, "{title}:\n");
        } else {
            let _ = writeln!(out, "{heading_level} {title}\n");
        }
        for a in attrs {
            attribute_line(out, a);
        }
        for b in blocks {
            block_line(out, b, &path_of(&b.name));
        }
        out.push('\n');
    };
    section("Required", &required, &required_blocks);
    section("Optional", &optional, &optional_blocks);
    section("Read-Only", &read_only, &[]);
    for b in blocks {
        let path = path_of(&b.name);
        let _ = writeln!(out, "<a id=\"{}\"></a>", anchor("nestedblock", &path));
        let _ = writeln!(out, "### Nested Schema for `{path}`\n");
        block_sections(out, &b.block, &path, "###", true);
    }
}

/// Renders one documentation page.
pub fn render_page(page: &Page<'_>) -> String {
    let description = page.schema.block.description.trim();
    let mut out = String::new();
    let title = match page.kind {
        PageKind::Provider => format!("{} Provider", page.name),
        _ => format!("{} {} - {}", page.name, page.kind.label(), page.program),
    };
    let _ = writeln!(out, "---\npage_title: \"{title}\"\nsubcategory: \"\"");
    let _ = writeln!(out, "description: |-");
    for line in description.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "---\n");
    let heading = match page.kind {
        PageKind::Provider => format!("# {} Provider", page.name),
        _ => format!("# {} ({})", page.name, page.kind.label()),
    };
    let _ = writeln!(out, "{heading}\n");
    if !description.is_empty() {
        let _ = writeln!(out, "{description}\n");
    }
    if let Some(example) = page.example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            example.trim_end()
        );
    }
    let _ = writeln!(
        out,
        "<!-- schema generated by our docs command; edit the schema, not this file -->"
    );
    let _ = writeln!(out, "## Schema\n");
    block_sections(&mut out, &page.schema.block, "", "###", false);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Value;

    #[test]
    fn renders_sections_flags_and_nested_blocks() {
        let schema = Schema::new("Use this resource to do a thing.")
            .attr(Attribute::string("name").required().describe("The name."))
            .attr(Attribute::string("share").default(Value::string("owner")))
            .attr(Attribute::string("token").computed().sensitive())
            .attr(Attribute::string("old").optional().deprecated("Use name."))
            .block(
                NestedBlock::set(
                    "check",
                    Block::new()
                        .describe("How to check it.")
                        .attr(Attribute::number("interval").required()),
                )
                .max(1),
            );
        let page = render_page(&Page {
            kind: PageKind::Resource,
            name: "thing",
            program: "terraform-provider-x",
            schema: &schema,
            example: Some("resource \"thing\" \"a\" {}\n"),
        });
        assert!(page.starts_with("---\npage_title: \"thing Resource - terraform-provider-x\""));
        assert!(page.contains("## Example Usage\n\n```terraform\nresource \"thing\" \"a\" {}\n```"));
        assert!(page.contains("### Required\n\n- `name` (String) The name."));
        assert!(page.contains("- `share` (String) Defaults to `\"owner\"`."));
        assert!(page.contains("- `old` (String, Deprecated) **Deprecated:** Use name."));
        assert!(page.contains("### Read-Only\n\n- `token` (String, Sensitive)"));
        assert!(page.contains(
            "- `check` (Block Set, Max: 1) How to check it. (see [below for nested schema](#nestedblock--check))"
        ));
        assert!(
            page.contains("### Nested Schema for `check`\n\nRequired:\n\n- `interval` (Number)")
        );
        assert!(page.ends_with('\n') && !page.ends_with("\n\n"));
    }
}
