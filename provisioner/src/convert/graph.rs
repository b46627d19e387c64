//! The dependency graph from `terraform graph`, and the two questions the converter asks
//! it: which resource is closest to a node, and does one resource depend directly on an
//! agent.
//!
//! An edge `A -> B` means A depends on B. Agents attach to the closest resource that
//! depends on them (searching "up", against the edges); `coder_metadata` attaches to the
//! closest resource it depends on (searching "down", along them).

use std::cell::OnceCell;
use std::cmp::Ordering;

use rustc_hash::{FxHashMap, FxHashSet};

use super::dot::{DotGraph, IndexedEdge};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Towards the nodes that depend on the start node.
    Dependents,
    /// Towards the nodes the start node depends on.
    Dependencies,
}

#[derive(Debug, Default)]
pub(crate) struct ResourceGraph {
    /// Raw node IDs, in order of first mention.
    ids: Vec<String>,
    /// Each node's label with surrounding quotes trimmed, if it has one.
    labels: Vec<Option<String>>,
    /// For each node, the nodes it depends on (deduplicated, in edge order).
    dependencies: Vec<Vec<usize>>,
    /// For each node, the nodes that depend on it.
    dependents: Vec<Vec<usize>>,
    /// Each label → the first node carrying it.
    first_with_label: FxHashMap<String, usize>,
    /// Node indices sorted by their IDs read backwards, so the nodes whose ID ends with a
    /// given suffix are adjacent; built on first use (plan-time lookups only).
    by_reversed_id: OnceCell<Vec<usize>>,
}

impl ResourceGraph {
    /// The graph of `dot::parse_indexed`'s nodes and edges.
    pub(crate) fn new(dot: DotGraph, edges: Vec<IndexedEdge>) -> Self {
        let mut graph = ResourceGraph::default();
        let n = dot.nodes.len();
        graph.ids.reserve(n);
        graph.labels.reserve(n);
        for (i, node) in dot.nodes.into_iter().enumerate() {
            // Upstream trims every leading and trailing quote character off the raw value.
            let label = node.attr("label").map(|l| l.trim_matches('"').to_string());
            if let Some(l) = &label {
                graph.first_with_label.entry(l.clone()).or_insert(i);
            }
            graph.labels.push(label);
            graph.ids.push(node.id);
        }
        graph.dependencies = vec![Vec::new(); n];
        graph.dependents = vec![Vec::new(); n];
        let mut seen = FxHashSet::default();
        seen.reserve(edges.len());
        for edge in &edges {
            // The parser registers every edge endpoint as a node.
            if edge.from >= n || edge.to >= n {
                continue;
            }
            if seen.insert((edge.from, edge.to)) {
                graph.dependencies[edge.from].push(edge.to);
                graph.dependents[edge.to].push(edge.from);
            }
        }
        graph
    }

    /// The first node carrying this label.
    pub(crate) fn node_by_label(&self, label: &str) -> Option<usize> {
        self.first_with_label.get(label).copied()
    }

    pub(crate) fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().filter_map(|l| l.as_deref())
    }

    /// The label of the nearest node (not counting `start`) whose label satisfies
    /// `is_candidate`; among equally near ones the smallest label wins.
    ///
    /// Upstream walks every path recursively and keeps the candidate with the smallest
    /// depth, then the smallest label; a breadth-first search gives the same answer
    /// (depth = shortest distance) without revisiting nodes, so cycles and diamonds in a
    /// hand-written graph cannot blow up.
    pub(crate) fn nearest(
        &self,
        start: usize,
        direction: Direction,
        is_candidate: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let next = match direction {
            Direction::Dependents => &self.dependents,
            Direction::Dependencies => &self.dependencies,
        };
        // A set rather than a flag per node: most searches end after a level or two, and
        // they run once per agent and per metadata resource.
        let mut visited = FxHashSet::default();
        visited.insert(start);
        let mut frontier: Vec<usize> = vec![start];
        while !frontier.is_empty() {
            let mut level = Vec::new();
            for &node in &frontier {
                for &n in next.get(node).map_or(&[][..], Vec::as_slice) {
                    if visited.insert(n) {
                        level.push(n);
                    }
                }
            }
            let best = level
                .iter()
                .filter_map(|&n| self.labels.get(n).and_then(|l| l.as_deref()))
                .filter(|l| is_candidate(l))
                .min();
            if let Some(first) = best {
                return Some(first.to_string());
            }
            frontier = level;
        }
        None
    }

    /// Whether some edge goes from a node whose raw ID ends with `from_suffix` to one whose
    /// raw ID ends with `to_suffix`: the plain scan, which [`ResourceGraph::dependency_ids`]
    /// answers without looking at every node.
    #[cfg(test)]
    pub(crate) fn has_edge_with_suffixes(&self, from_suffix: &str, to_suffix: &str) -> bool {
        self.dependencies.iter().enumerate().any(|(from, tos)| {
            self.ids[from].ends_with(from_suffix)
                && tos.iter().any(|&to| self.ids[to].ends_with(to_suffix))
        })
    }

    /// The raw IDs of the nodes that nodes whose raw ID ends with `from_suffix` depend on.
    pub(crate) fn dependency_ids(&self, from_suffix: &str) -> Vec<&str> {
        let order = self.by_reversed_id.get_or_init(|| {
            let mut order: Vec<usize> = (0..self.ids.len()).collect();
            order.sort_by(|&a, &b| self.ids[a].bytes().rev().cmp(self.ids[b].bytes().rev()));
            order
        });
        let start = order.partition_point(|&i| {
            self.ids[i].bytes().rev().cmp(from_suffix.bytes().rev()) == Ordering::Less
        });
        let mut out = Vec::new();
        for &from in order.get(start..).unwrap_or(&[]) {
            if !self.ids[from].ends_with(from_suffix) {
                break;
            }
            for &to in self.dependencies.get(from).map_or(&[][..], Vec::as_slice) {
                out.push(self.ids[to].as_str());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::dot;

    fn graph(text: &str) -> ResourceGraph {
        let (dot, edges) = dot::parse_indexed(text).unwrap();
        ResourceGraph::new(dot, edges)
    }

    #[test]
    fn nearest_prefers_depth_then_label() {
        // c and b both depend on a directly; z depends on a through b.
        let g = graph(
            r#"digraph {
                "a" [label = "a"] "b" [label = "b"] "c" [label = "c"] "z" [label = "z"]
                "c" -> "a"  "b" -> "a"  "z" -> "b"
            }"#,
        );
        let a = g.node_by_label("a").unwrap();
        assert_eq!(
            g.nearest(a, Direction::Dependents, |_| true).as_deref(),
            Some("b")
        );
        assert_eq!(
            g.nearest(a, Direction::Dependents, |l| l == "z").as_deref(),
            Some("z")
        );
        assert_eq!(g.nearest(a, Direction::Dependencies, |_| true), None);
        let z = g.node_by_label("z").unwrap();
        assert_eq!(
            g.nearest(z, Direction::Dependencies, |l| l != "b")
                .as_deref(),
            Some("a")
        );
    }

    #[test]
    fn cycles_terminate() {
        let g = graph(r#"digraph { a [label=a] b [label=b] a -> b b -> a }"#);
        let a = g.node_by_label("a").unwrap();
        assert_eq!(g.nearest(a, Direction::Dependents, |l| l == "x"), None);
        assert_eq!(
            g.nearest(a, Direction::Dependents, |_| true).as_deref(),
            Some("b")
        );
    }

    #[test]
    fn labels_are_quote_trimmed() {
        let g = graph(r#"digraph { "[root] x.y (expand)" [label = "x.y"] n }"#);
        assert_eq!(g.node_by_label("x.y"), Some(0));
        assert_eq!(g.labels().collect::<Vec<_>>(), ["x.y"]);
    }

    #[test]
    fn dependency_ids_match_the_plain_scan() {
        // IDs built from pieces that overlap as suffixes, quotes and brackets included.
        const PIECES: &[&str] = &[
            "\"[root] ",
            "a",
            "b",
            ".",
            "] ",
            " (expand)\"",
            "coder_agent.",
            "x]",
        ];
        let seed = std::cell::Cell::new(0x2545_f491_4f6c_dd1du64);
        let next = || {
            let mut x = seed.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seed.set(x);
            x
        };
        let word = || {
            let n = 1 + next() % 5;
            (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect::<String>()
        };
        for _ in 0..300 {
            let ids: Vec<String> = (0..1 + next() % 12).map(|_| word()).collect();
            let quoted =
                |id: &str| format!("\"{}\"", id.replace('\\', "\\\\").replace('"', "\\\""));
            let mut text = String::from("digraph {\n");
            for _ in 0..next() % 20 {
                let a = &ids[(next() % ids.len() as u64) as usize];
                let b = &ids[(next() % ids.len() as u64) as usize];
                text.push_str(&format!("{} -> {}\n", quoted(a), quoted(b)));
            }
            text.push('}');
            let g = graph(&text);
            for _ in 0..20 {
                let (from, to) = (word(), word());
                assert_eq!(
                    g.has_edge_with_suffixes(&from, &to),
                    g.dependency_ids(&from)
                        .iter()
                        .any(|t| t.ends_with(to.as_str())),
                    "{text} {from:?} {to:?}"
                );
            }
        }
    }

    #[test]
    fn edge_suffixes_use_raw_ids() {
        let g = graph(
            r#"digraph { "[root] coder_app.app1 (expand)" -> "[root] coder_agent.dev1 (expand)" }"#,
        );
        assert!(g.has_edge_with_suffixes(
            "] coder_app.app1 (expand)\"",
            "] coder_agent.dev1 (expand)\""
        ));
        assert!(!g.has_edge_with_suffixes(
            "] coder_app.app1 (expand)\"",
            "] coder_agent.dev2 (expand)\""
        ));
    }
}
