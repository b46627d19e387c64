//! The dependency graph from `terraform graph`, and the two questions the converter asks
//! it: which resource is closest to a node, and does one resource depend directly on an
//! agent.
//!
//! An edge `A -> B` means A depends on B. Agents attach to the closest resource that
//! depends on them (searching "up", against the edges); `coder_metadata` attaches to the
//! closest resource it depends on (searching "down", along them).

use std::collections::{BTreeSet, HashMap, HashSet};

use super::dot::DotGraph;

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
}

impl ResourceGraph {
    pub(crate) fn new(dot: &DotGraph) -> Self {
        let mut graph = ResourceGraph::default();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for node in &dot.nodes {
            index.insert(node.id.as_str(), graph.ids.len());
            graph.ids.push(node.id.clone());
            // Upstream trims every leading and trailing quote character off the raw value.
            graph
                .labels
                .push(node.attr("label").map(|l| l.trim_matches('"').to_string()));
        }
        graph.dependencies = vec![Vec::new(); graph.ids.len()];
        graph.dependents = vec![Vec::new(); graph.ids.len()];
        let mut seen = HashSet::new();
        for edge in &dot.edges {
            // The parser registers every edge endpoint as a node.
            let (Some(&from), Some(&to)) =
                (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
            else {
                continue;
            };
            if seen.insert((from, to)) {
                graph.dependencies[from].push(to);
                graph.dependents[to].push(from);
            }
        }
        graph
    }

    /// The first node carrying this label.
    pub(crate) fn node_by_label(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l.as_deref() == Some(label))
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
        let mut visited = vec![false; self.ids.len()];
        let mut frontier: Vec<usize> = vec![start];
        if let Some(v) = visited.get_mut(start) {
            *v = true;
        }
        while !frontier.is_empty() {
            let mut level = Vec::new();
            for &node in &frontier {
                for &n in next.get(node).map_or(&[][..], Vec::as_slice) {
                    if !visited[n] {
                        visited[n] = true;
                        level.push(n);
                    }
                }
            }
            let best: BTreeSet<&str> = level
                .iter()
                .filter_map(|&n| self.labels[n].as_deref())
                .filter(|l| is_candidate(l))
                .collect();
            if let Some(first) = best.first() {
                return Some((*first).to_string());
            }
            frontier = level;
        }
        None
    }

    /// Whether some edge goes from a node whose raw ID ends with `from_suffix` to one whose
    /// raw ID ends with `to_suffix`.
    pub(crate) fn has_edge_with_suffixes(&self, from_suffix: &str, to_suffix: &str) -> bool {
        self.dependencies.iter().enumerate().any(|(from, tos)| {
            self.ids[from].ends_with(from_suffix)
                && tos.iter().any(|&to| self.ids[to].ends_with(to_suffix))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::dot;

    fn graph(text: &str) -> ResourceGraph {
        ResourceGraph::new(&dot::parse(text).unwrap())
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
