//! A small parser for the Graphviz DOT language, enough for `terraform graph` output and
//! hand-written test graphs.
//!
//! It accepts the whole DOT statement grammar (graph/node/edge attribute statements,
//! `ID = ID`, node statements with ports, edge chains, nested and anonymous subgraphs,
//! subgraphs as edge endpoints, `;`/`,` separators, `//`, `/* */` and `#` comments,
//! quoted, numeric, HTML and `+`-concatenated IDs) and returns an error for anything
//! else; it never panics.
//!
//! IDs are kept as written, quotes and escapes included (`"[root] coder_agent.main (expand)"`),
//! because upstream matches on that raw form: it trims quotes off labels and compares node
//! names against suffixes that end in a quote. Use [`unquote`] for the text itself.
//! Attribute *names* are unquoted, attribute values raw.

use std::borrow::Cow;
use std::fmt;

use rustc_hash::FxHashMap;

/// Subgraph nesting deeper than this is rejected rather than risking the stack.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotGraph {
    pub strict: bool,
    pub directed: bool,
    /// The graph's own ID, raw.
    pub id: Option<String>,
    /// Graph-level attributes (`compound = "true"`, `graph [...]`), from every subgraph.
    pub attrs: Vec<(String, String)>,
    /// Every node, in order of first mention, with the attributes of all its statements.
    pub nodes: Vec<DotNode>,
    /// Every edge, in order; an edge to or from a subgraph is expanded to its nodes.
    pub edges: Vec<DotEdge>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotNode {
    pub id: String,
    pub attrs: Vec<(String, String)>,
}

impl DotNode {
    /// The raw value of an attribute; the last one wins when it is set more than once.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotEdge {
    pub from: String,
    pub to: String,
    pub attrs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for DotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for DotError {}

/// The text of a raw ID: quotes removed and `\"` unescaped; other IDs unchanged.
pub fn unquote(raw: &str) -> String {
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\""),
        None => raw.to_string(),
    }
}

pub fn parse(text: &str) -> Result<DotGraph, DotError> {
    let (mut graph, edges) = parse_indexed(text)?;
    let id = |i: usize| graph.nodes.get(i).map(|n| n.id.clone()).unwrap_or_default();
    let edges = edges
        .into_iter()
        .map(|e| DotEdge {
            from: id(e.from),
            to: id(e.to),
            attrs: e.attrs,
        })
        .collect();
    graph.edges = edges;
    Ok(graph)
}

/// An edge between two of the graph's nodes, by index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IndexedEdge {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) attrs: Vec<(String, String)>,
}

/// Like [`parse`], with the edges as indices into the graph's nodes (whose `edges` list is
/// left empty): what the converter needs, without a copy of both IDs for every edge.
pub(crate) fn parse_indexed(text: &str) -> Result<(DotGraph, Vec<IndexedEdge>), DotError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        graph: DotGraph::default(),
        edges: Vec::new(),
        node_index: FxHashMap::default(),
    };
    parser.graph()?;
    Ok((parser.graph, parser.edges))
}

/// The 1-based line and column (in chars) of byte offset `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A token; text tokens borrow from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// Unquoted name or numeral.
    Bare(&'a str),
    /// `"..."`, raw with its quotes.
    Quoted(&'a str),
    /// `<...>`, raw with its angle brackets.
    Html(&'a str),
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Semi,
    Comma,
    Eq,
    Colon,
    Plus,
    /// `->` or `--`.
    EdgeOp,
}

#[derive(Debug, Clone)]
struct Token<'a> {
    tok: Tok<'a>,
    /// Byte offset of its first char; turned into a line and column for errors only.
    offset: usize,
}

/// Splits `text` into tokens. `i` and `end` below are byte offsets, always on char
/// boundaries.
fn lex(text: &str) -> Result<Vec<Token<'_>>, DotError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0usize;
    let mut line_start = true;

    let err = |offset: usize, message: String| {
        let (line, column) = position(text, offset);
        DotError {
            line,
            column,
            message,
        }
    };
    // The end of the line that starts at or after `from` (the newline is not included).
    let line_end = |from: usize| {
        bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(text.len(), |p| from + p)
    };

    while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
        let after = i + c.len_utf8();
        let next = text.get(after..).and_then(|rest| rest.chars().next());
        let start = i;
        if c == '\n' {
            i = after;
            line_start = true;
            continue;
        }
        if c.is_whitespace() {
            i = after;
            continue;
        }
        // A line starting with `#` is C-preprocessor output: DOT ignores it.
        if c == '#' && line_start {
            i = line_end(i);
            continue;
        }
        line_start = false;
        if c == '/' && next == Some('/') {
            i = line_end(i);
            continue;
        }
        if c == '/' && next == Some('*') {
            let close = text
                .get(i + 2..)
                .and_then(|rest| rest.find("*/"))
                .ok_or_else(|| err(start, "unterminated comment".into()))?;
            i += 2 + close + 2;
            continue;
        }
        let simple = match c {
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ';' => Some(Tok::Semi),
            ',' => Some(Tok::Comma),
            '=' => Some(Tok::Eq),
            ':' => Some(Tok::Colon),
            '+' => Some(Tok::Plus),
            _ => None,
        };
        let (tok, end) = if let Some(tok) = simple {
            (tok, after)
        } else if c == '-' && matches!(next, Some('>') | Some('-')) {
            (Tok::EdgeOp, i + 2)
        } else if c == '"' {
            // Byte-wise: `"` and `\` never occur inside a multi-byte char, so stepping
            // over one byte after a backslash finds the same closing quote.
            let mut j = i + 1;
            loop {
                match bytes.get(j) {
                    None => {
                        return Err(err(start, "unterminated string".into()));
                    }
                    Some(b'\\') => j += 2,
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            let end = j + 1;
            (Tok::Quoted(text.get(i..end).unwrap_or("")), end)
        } else if c == '<' {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j) {
                    None => {
                        return Err(err(start, "unterminated HTML string".into()));
                    }
                    Some(b'<') => depth += 1,
                    Some(b'>') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Some(_) => {}
                }
                j += 1;
            }
            let end = j + 1;
            (Tok::Html(text.get(i..end).unwrap_or("")), end)
        } else if c == '-' || c == '.' || c.is_ascii_digit() {
            let mut j = after;
            while bytes
                .get(j)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
            {
                j += 1;
            }
            let numeral = text.get(i..j).unwrap_or("");
            let digits = numeral.trim_start_matches('-');
            if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
                return Err(err(start, format!("invalid numeral {numeral:?}")));
            }
            (Tok::Bare(numeral), j)
        } else if c.is_alphabetic() || c == '_' || !c.is_ascii() {
            let rest = text.get(after..).unwrap_or("");
            let len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || !c.is_ascii()))
                .unwrap_or(rest.len());
            let end = after + len;
            (Tok::Bare(text.get(i..end).unwrap_or("")), end)
        } else {
            return Err(err(start, format!("unexpected character {c:?}")));
        };
        tokens.push(Token { tok, offset: start });
        i = end;
    }
    Ok(tokens)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    graph: DotGraph,
    edges: Vec<IndexedEdge>,
    /// Node ID → index in `graph.nodes`.
    node_index: FxHashMap<Cow<'a, str>, usize>,
}

fn is_keyword(tok: &Tok<'_>, keyword: &str) -> bool {
    matches!(tok, Tok::Bare(s) if s.eq_ignore_ascii_case(keyword))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok<'a>> {
        self.tokens.get(self.pos + offset).map(|t| &t.tok)
    }

    fn error(&self, message: impl Into<String>) -> DotError {
        let offset = self
            .tokens
            .get(self.pos)
            .map_or(self.text.len(), |t| t.offset);
        let (line, column) = position(self.text, offset);
        DotError {
            line,
            column,
            message: message.into(),
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "end of input".to_string(),
            Some(Tok::Bare(s) | Tok::Quoted(s) | Tok::Html(s)) => format!("{s:?}"),
            Some(t) => format!("{t:?}"),
        }
    }

    fn eat(&mut self, tok: &Tok<'_>) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok<'_>, what: &str) -> Result<(), DotError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.describe())))
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.peek().is_some_and(|t| is_keyword(t, keyword)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn at_id(&self) -> bool {
        match self.peek() {
            Some(Tok::Bare(s)) => !["node", "edge", "graph", "digraph", "subgraph", "strict"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k)),
            Some(Tok::Quoted(_) | Tok::Html(_)) => true,
            _ => false,
        }
    }

    /// An ID; quoted strings joined with `+` become one quoted string.
    fn id(&mut self) -> Result<Cow<'a, str>, DotError> {
        if !self.at_id() {
            return Err(self.error(format!("expected an ID, found {}", self.describe())));
        }
        let first = match self.peek() {
            Some(Tok::Bare(s) | Tok::Quoted(s) | Tok::Html(s)) => *s,
            _ => return Err(self.error("expected an ID")),
        };
        self.pos += 1;
        if !first.starts_with('"') || self.peek() != Some(&Tok::Plus) {
            return Ok(Cow::Borrowed(first));
        }
        let mut joined = first.to_string();
        while self.peek() == Some(&Tok::Plus) {
            let Some(&Tok::Quoted(next)) = self.peek_at(1) else {
                return Err(self.error("expected a quoted string after '+'"));
            };
            self.pos += 2;
            joined.pop();
            joined.push_str(&next[1..]);
        }
        Ok(Cow::Owned(joined))
    }

    fn graph(&mut self) -> Result<(), DotError> {
        self.graph.strict = self.eat_keyword("strict");
        if self.eat_keyword("digraph") {
            self.graph.directed = true;
        } else if !self.eat_keyword("graph") {
            return Err(self.error(format!(
                "expected \"graph\" or \"digraph\", found {}",
                self.describe()
            )));
        }
        if self.at_id() {
            self.graph.id = Some(self.id()?.into_owned());
        }
        self.expect(&Tok::LBrace, "'{'")?;
        let mut members = Vec::new();
        self.stmt_list(0, &mut members)?;
        self.expect(&Tok::RBrace, "'}'")?;
        if self.peek().is_some() {
            return Err(self.error(format!("unexpected {} after the graph", self.describe())));
        }
        Ok(())
    }

    fn stmt_list(&mut self, depth: usize, members: &mut Vec<usize>) -> Result<(), DotError> {
        while !matches!(self.peek(), None | Some(Tok::RBrace)) {
            self.stmt(depth, members)?;
            self.eat(&Tok::Semi);
        }
        Ok(())
    }

    fn stmt(&mut self, depth: usize, members: &mut Vec<usize>) -> Result<(), DotError> {
        let next_is_bracket = self.peek_at(1) == Some(&Tok::LBracket);
        if next_is_bracket && self.eat_keyword("graph") {
            let attrs = self.attr_lists()?;
            self.graph.attrs.extend(attrs);
            return Ok(());
        }
        // Default node/edge attributes do not change any node's own attributes (labels are
        // what the converter reads), so they are parsed and dropped.
        if next_is_bracket && (self.eat_keyword("node") || self.eat_keyword("edge")) {
            self.attr_lists()?;
            return Ok(());
        }
        if self.at_id() && self.peek_at(1) == Some(&Tok::Eq) {
            let key = unquote(&self.id()?);
            self.pos += 1;
            let value = self.id()?.into_owned();
            self.graph.attrs.push((key, value));
            return Ok(());
        }
        let first = self.endpoint(depth, members)?;
        if self.peek() == Some(&Tok::EdgeOp) {
            let mut chain = vec![first];
            while self.eat(&Tok::EdgeOp) {
                chain.push(self.endpoint(depth, members)?);
            }
            let attrs = if self.peek() == Some(&Tok::LBracket) {
                self.attr_lists()?
            } else {
                Vec::new()
            };
            for pair in chain.windows(2) {
                for &from in &pair[0] {
                    for &to in &pair[1] {
                        self.edges.push(IndexedEdge {
                            from,
                            to,
                            attrs: attrs.clone(),
                        });
                    }
                }
            }
            return Ok(());
        }
        if self.peek() == Some(&Tok::LBracket) {
            let attrs = self.attr_lists()?;
            // A lone subgraph takes no attribute list; a node statement names one node.
            if let [node] = first.as_slice() {
                if let Some(n) = self.graph.nodes.get_mut(*node) {
                    n.attrs.extend(attrs);
                }
            } else {
                return Err(self.error("an attribute list must follow a node"));
            }
        }
        Ok(())
    }

    /// A node ID (with optional port) or a subgraph; returns the nodes it stands for (as
    /// indices into the graph's nodes).
    fn endpoint(&mut self, depth: usize, members: &mut Vec<usize>) -> Result<Vec<usize>, DotError> {
        if self.peek() == Some(&Tok::LBrace)
            || self.peek().is_some_and(|t| is_keyword(t, "subgraph"))
        {
            return self.subgraph(depth, members);
        }
        let id = self.id()?;
        // Ports (`node:port:compass`) do not change which node is meant.
        while self.eat(&Tok::Colon) {
            self.id()?;
        }
        let node = self.add_node(id);
        members.push(node);
        Ok(vec![node])
    }

    fn subgraph(&mut self, depth: usize, members: &mut Vec<usize>) -> Result<Vec<usize>, DotError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("subgraphs nested too deeply"));
        }
        if self.eat_keyword("subgraph") && self.at_id() {
            self.id()?;
        }
        self.expect(&Tok::LBrace, "'{'")?;
        let mut inner = Vec::new();
        self.stmt_list(depth + 1, &mut inner)?;
        self.expect(&Tok::RBrace, "'}'")?;
        members.extend_from_slice(&inner);
        Ok(inner)
    }

    /// The index of the node `id`, added if it is new.
    fn add_node(&mut self, id: Cow<'a, str>) -> usize {
        if let Some(&i) = self.node_index.get(&id) {
            return i;
        }
        let i = self.graph.nodes.len();
        self.graph.nodes.push(DotNode {
            id: id.clone().into_owned(),
            attrs: Vec::new(),
        });
        self.node_index.insert(id, i);
        i
    }

    /// One or more `[a = b, c = d; ...]` lists, concatenated.
    fn attr_lists(&mut self) -> Result<Vec<(String, String)>, DotError> {
        let mut attrs = Vec::new();
        while self.eat(&Tok::LBracket) {
            while !self.eat(&Tok::RBracket) {
                let key = unquote(&self.id()?);
                self.expect(&Tok::Eq, "'='")?;
                let value = self.id()?.into_owned();
                attrs.push((key, value));
                if !self.eat(&Tok::Comma) {
                    self.eat(&Tok::Semi);
                }
            }
        }
        Ok(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TERRAFORM: &str = r#"digraph {
	compound = "true"
	newrank = "true"
	subgraph "root" {
		"[root] coder_agent.main (expand)" [label = "coder_agent.main", shape = "box"]
		"[root] null_resource.b (expand)" [label = "null_resource.b", shape = "box"]
		"[root] provider[\"registry.terraform.io/coder/coder\"]" [label = "provider[\"registry.terraform.io/coder/coder\"]", shape = "diamond"]
		"[root] coder_agent.main (expand)" -> "[root] provider[\"registry.terraform.io/coder/coder\"]"
		"[root] null_resource.b (expand)" -> "[root] coder_agent.main (expand)"
		"[root] root" -> "[root] null_resource.b (expand)"
	}
}
"#;

    #[test]
    fn parses_terraform_graph_output() {
        let g = parse(TERRAFORM).unwrap();
        assert!(g.directed);
        assert!(!g.strict);
        assert_eq!(
            g.attrs,
            vec![
                ("compound".to_string(), "\"true\"".to_string()),
                ("newrank".to_string(), "\"true\"".to_string())
            ]
        );
        assert_eq!(g.nodes.len(), 4);
        assert_eq!(g.nodes[0].id, "\"[root] coder_agent.main (expand)\"");
        assert_eq!(g.nodes[0].attr("label"), Some("\"coder_agent.main\""));
        assert_eq!(
            g.nodes[2].attr("label"),
            Some(r#""provider[\"registry.terraform.io/coder/coder\"]""#)
        );
        // Mentioned only in an edge: the node exists, without attributes.
        assert_eq!(g.nodes[3].id, "\"[root] root\"");
        assert!(g.nodes[3].attrs.is_empty());
        assert_eq!(g.edges.len(), 3);
        assert_eq!(g.edges[1].from, "\"[root] null_resource.b (expand)\"");
        assert_eq!(g.edges[1].to, "\"[root] coder_agent.main (expand)\"");
    }

    #[test]
    fn unquotes() {
        assert_eq!(unquote(r#""a \"b\"""#), r#"a "b""#);
        assert_eq!(unquote("bare"), "bare");
    }

    #[test]
    fn empty_graph() {
        let g = parse("digraph {}").unwrap();
        assert!(g.nodes.is_empty() && g.edges.is_empty());
        let g = parse("strict graph G { }").unwrap();
        assert!(g.strict && !g.directed);
        assert_eq!(g.id.as_deref(), Some("G"));
    }

    #[test]
    fn full_grammar() {
        let text = r#"
# preprocessor line
/* block
   comment */
digraph "g" {
  graph [rankdir=LR]; node [shape=box] edge [color=red]
  a [label=A][color=blue]; // trailing comment
  b:p1:n -> c -> { d; e } [weight=2, style="dashed"];
  subgraph cluster_x { f; subgraph { g } } -> a
  "x" + "y" [label=<<b>bold</b>>]
  -1.5 -> .5
  a [label = "A2"]
}
"#;
        let g = parse(text).unwrap();
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "b", "c", "d", "e", "f", "g", "\"xy\"", "-1.5", ".5"]
        );
        assert_eq!(g.nodes[0].attr("label"), Some("\"A2\""));
        assert_eq!(g.nodes[0].attr("color"), Some("blue"));
        assert_eq!(g.nodes[7].attr("label"), Some("<<b>bold</b>>"));
        let edges: Vec<(&str, &str)> = g
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(
            edges,
            [
                ("b", "c"),
                ("c", "d"),
                ("c", "e"),
                ("f", "a"),
                ("g", "a"),
                ("-1.5", ".5")
            ]
        );
        assert_eq!(g.edges[0].attrs[0], ("weight".into(), "2".into()));
        assert!(g.attrs.contains(&("rankdir".into(), "LR".into())));
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let g = parse("DiGraph { Node [a=b] x }").unwrap();
        assert_eq!(g.nodes.len(), 1);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            (
                "",
                "1:1: expected \"graph\" or \"digraph\", found end of input",
            ),
            ("digraph {", "1:10: expected '}', found end of input"),
            ("digraph { a -> }", "1:16: expected an ID, found RBrace"),
            ("digraph { \"abc }", "1:11: unterminated string"),
            ("digraph { a [b] }", "1:15: expected '=', found RBracket"),
            ("digraph { } x", "1:13: unexpected \"x\" after the graph"),
            ("digraph { a ! b }", "1:13: unexpected character '!'"),
            ("digraph { /* }", "1:11: unterminated comment"),
            ("digraph { <a }", "1:11: unterminated HTML string"),
            ("digraph { 1.2.3 }", "1:11: invalid numeral \"1.2.3\""),
            (
                "digraph { \"a\" + b }",
                "1:15: expected a quoted string after '+'",
            ),
            (
                "digraph {\n  a -> {b} -> }",
                "2:15: expected an ID, found RBrace",
            ),
            // Columns count chars, not bytes; lines restart them.
            (
                "digraph {\n\t\"\u{e9}t\u{e9}\" -> ! }",
                "2:11: unexpected character '!'",
            ),
            (
                "digraph {\n/* \u{e9}\n */ \"\u{e9}\n",
                "3:5: unterminated string",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("digraph {{ {} }}", "{".repeat(10_000));
        assert!(parse(&text)
            .unwrap_err()
            .message
            .contains("nested too deeply"));
    }

    #[test]
    fn never_panics_on_garbage() {
        // Every prefix and a few mangled variants of a realistic graph.
        let mut inputs: Vec<String> = (0..TERRAFORM.len())
            .filter(|i| TERRAFORM.is_char_boundary(*i))
            .map(|i| TERRAFORM[..i].to_string())
            .collect();
        inputs.push(TERRAFORM.replace('"', ""));
        inputs.push(TERRAFORM.replace(']', ""));
        inputs.push(TERRAFORM.replace("->", "-"));
        inputs.push("\\\"<<<>".to_string());
        inputs.push("digraph { \"\\".to_string());
        inputs.push("digraph { - }".to_string());
        for input in inputs {
            let _ = parse(&input);
        }
    }

    #[test]
    fn never_panics_on_random_token_soup() {
        // A fixed-seed generator over the characters that matter to the grammar.
        const ALPHABET: &[char] = &[
            'd', 'i', 'g', 'r', 'a', 'p', 'h', 's', 'u', 'b', ' ', '\n', '{', '}', '[', ']', ';',
            ',', '=', ':', '+', '-', '>', '"', '\\', '<', '/', '*', '#', '.', '0', '9', 'é',
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            let mut text = String::from("digraph {");
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push(ALPHABET[(seed % ALPHABET.len() as u64) as usize]);
            }
            let _ = parse(&text);
        }
    }
}
