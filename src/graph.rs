//! The dependency graph: one node per resource and data source, an edge from each dependency to
//! its dependent (references, `depends_on`, and the provider block's references). Gives the apply
//! order, the destroy order, `--target` selection, cycle diagnostics and dot/mermaid output.

use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::stack::{ResourceDecl, Stack};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why one resource depends on another: the span of the reference (or of `depends_on`).
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub span: Span,
}

/// The dependency graph of a stack. Node weights are indexes into `Stack::resources`.
#[derive(Debug, Clone)]
pub struct Graph {
    pub graph: DiGraph<usize, Edge>,
    by_address: HashMap<String, NodeIndex>,
    /// Resource addresses in `Stack::resources` order (sorted).
    addresses: Vec<String>,
}

impl Graph {
    pub fn node(&self, address: &str) -> Option<NodeIndex> {
        self.by_address.get(address).copied()
    }

    pub fn address(&self, n: NodeIndex) -> &str {
        &self.addresses[self.graph[n]]
    }

    /// Addresses this resource depends on directly, sorted.
    pub fn dependencies(&self, address: &str) -> Vec<String> {
        let Some(n) = self.node(address) else {
            return Vec::new();
        };
        let set: BTreeSet<&str> = self
            .graph
            .neighbors_directed(n, Direction::Incoming)
            .map(|d| self.address(d))
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// Resource indexes in an order where every dependency comes first; ties broken by address
    /// so the order is stable across runs.
    pub fn apply_order(&self) -> Vec<usize> {
        let mut indegree: Vec<usize> = self
            .graph
            .node_indices()
            .map(|n| {
                self.graph
                    .neighbors_directed(n, Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BTreeSet<(usize, NodeIndex)> = self
            .graph
            .node_indices()
            .filter(|n| indegree[n.index()] == 0)
            .map(|n| (self.graph[n], n))
            .collect();
        let mut out = Vec::with_capacity(indegree.len());
        while let Some(first) = ready.iter().next().copied() {
            ready.remove(&first);
            out.push(first.0);
            for next in self.graph.neighbors_directed(first.1, Direction::Outgoing) {
                let d = &mut indegree[next.index()];
                *d -= 1;
                if *d == 0 {
                    ready.insert((self.graph[next], next));
                }
            }
        }
        out
    }

    /// The destroy order: dependents before their dependencies.
    pub fn destroy_order(&self) -> Vec<usize> {
        let mut order = self.apply_order();
        order.reverse();
        order
    }

    /// The resources selected by `--target` addresses and everything they depend on. An address
    /// selects a resource, or every resource under a module prefix (`module.monitoring`).
    pub fn select_targets(
        &self,
        stack: &Stack,
        targets: &[String],
    ) -> Result<BTreeSet<usize>, String> {
        let mut selected = BTreeSet::new();
        let mut stack_nodes: Vec<NodeIndex> = Vec::new();
        for t in targets {
            let prefix = format!("{t}.");
            let matched: Vec<NodeIndex> = self
                .addresses
                .iter()
                .filter(|a| *a == t || a.starts_with(&prefix) || a.starts_with(&format!("{t}[")))
                .filter_map(|a| self.node(a))
                .collect();
            if matched.is_empty() {
                let hint = did_you_mean(t, stack.resources.iter().map(|r| r.address.as_str()))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(format!(
                    "--target {t}: no such resource or module in the stack{hint}"
                ));
            }
            stack_nodes.extend(matched);
        }
        while let Some(n) = stack_nodes.pop() {
            if selected.insert(self.graph[n]) {
                stack_nodes.extend(self.graph.neighbors_directed(n, Direction::Incoming));
            }
        }
        Ok(selected)
    }

    /// Graphviz dot.
    pub fn to_dot(&self, only: Option<&BTreeSet<usize>>) -> String {
        let mut out =
            String::from("digraph mlstack {\n  rankdir = \"RL\";\n  node [shape = box];\n");
        for (i, a) in self.addresses.iter().enumerate() {
            if only.is_none_or(|s| s.contains(&i)) {
                out.push_str(&format!("  {};\n", dot_quote(a)));
            }
        }
        for (from, to) in self.sorted_edges(only) {
            out.push_str(&format!("  {} -> {};\n", dot_quote(to), dot_quote(from)));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart (renders in GitHub Markdown).
    pub fn to_mermaid(&self, only: Option<&BTreeSet<usize>>) -> String {
        let mut out = String::from("flowchart LR\n");
        let id = |i: usize| format!("n{i}");
        for (i, a) in self.addresses.iter().enumerate() {
            if only.is_none_or(|s| s.contains(&i)) {
                out.push_str(&format!("  {}[\"{}\"]\n", id(i), a.replace('"', "#quot;")));
            }
        }
        for (from, to) in self.sorted_edges(only) {
            let (Some(f), Some(t)) = (self.node(from), self.node(to)) else {
                continue;
            };
            out.push_str(&format!(
                "  {} --> {}\n",
                id(self.graph[f]),
                id(self.graph[t])
            ));
        }
        out
    }

    /// Edges as (dependency, dependent) address pairs, sorted and deduplicated.
    fn sorted_edges(&self, only: Option<&BTreeSet<usize>>) -> BTreeSet<(&str, &str)> {
        self.graph
            .edge_references()
            .filter(|e| {
                only.is_none_or(|s| {
                    s.contains(&self.graph[e.source()]) && s.contains(&self.graph[e.target()])
                })
            })
            .map(|e| (self.address(e.source()), self.address(e.target())))
            .collect()
    }
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every (dependency address, span) of one resource: its references, its provider block's
/// references and `depends_on`.
pub fn resource_dependencies<'a>(stack: &'a Stack, r: &'a ResourceDecl) -> Vec<(&'a str, Span)> {
    let mut out: Vec<(&str, Span)> = r
        .properties
        .references()
        .into_iter()
        .map(|x| (x.address.as_str(), x.span))
        .collect();
    if let Some(p) = stack.providers.get(&r.provider) {
        out.extend(
            p.config
                .references()
                .into_iter()
                .map(|x| (x.address.as_str(), x.span)),
        );
    }
    out.extend(r.depends_on.iter().map(|d| (d.as_str(), r.span)));
    out
}

/// Builds the graph; a reference to an address that is not in the stack, or a cycle, is a
/// diagnostic.
pub fn build(stack: &Stack) -> Result<Graph, Diagnostics> {
    let mut graph = DiGraph::with_capacity(stack.resources.len(), stack.resources.len());
    let mut by_address = HashMap::with_capacity(stack.resources.len());
    let mut addresses = Vec::with_capacity(stack.resources.len());
    for (i, r) in stack.resources.iter().enumerate() {
        let n = graph.add_node(i);
        by_address.insert(r.address.clone(), n);
        addresses.push(r.address.clone());
    }
    let mut problems = Vec::new();
    for (i, r) in stack.resources.iter().enumerate() {
        let to = NodeIndex::new(i);
        let mut seen = BTreeSet::new();
        for (dep, span) in resource_dependencies(stack, r) {
            match by_address.get(dep) {
                Some(&from) => {
                    if seen.insert(from) {
                        graph.add_edge(from, to, Edge { span });
                    }
                }
                None => {
                    let d = Diagnostic::new(
                        "unknown-reference",
                        format!(
                            "`{}` refers to `{dep}`, which is not in the stack",
                            r.address
                        ),
                    )
                    .at(span, "no such resource");
                    let d = match did_you_mean(dep, addresses.iter().map(String::as_str)) {
                        Some(h) => d.help(h),
                        None => d,
                    };
                    problems.push(d);
                }
            }
        }
    }
    let g = Graph {
        graph,
        by_address,
        addresses,
    };
    problems.extend(find_cycles(&g, stack));
    if problems.is_empty() {
        Ok(g)
    } else {
        Err(Diagnostics::new(stack.sources.clone(), problems))
    }
}

/// One diagnostic per strongly connected component with a cycle, naming the whole cycle.
fn find_cycles(g: &Graph, stack: &Stack) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for scc in petgraph::algo::tarjan_scc(&g.graph) {
        let self_loop = scc.len() == 1 && g.graph.contains_edge(scc[0], scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let start = scc
            .iter()
            .copied()
            .min_by_key(|n| g.address(*n))
            .unwrap_or(scc[0]);
        let cycle = cycle_path(g, start, &members);
        let names: Vec<&str> = cycle.iter().map(|(n, _)| g.address(*n)).collect();
        let mut text = names.join(" → ");
        text.push_str(" → ");
        text.push_str(g.address(start));
        let first = &stack.resources[g.graph[start]];
        let mut d = Diagnostic::new("dependency-cycle", format!("dependency cycle: {text}"))
            .at(first.span, "this resource is part of a cycle")
            .help("break the cycle by removing one of these references or `depends_on` entries");
        for (_, span) in &cycle {
            d = d.also(*span, "depends on");
        }
        out.push(d);
    }
    out
}

/// A cycle through `start` inside one component: each node with the span of the reference that
/// leads (as a dependency) to the next.
fn cycle_path(
    g: &Graph,
    start: NodeIndex,
    members: &BTreeSet<NodeIndex>,
) -> Vec<(NodeIndex, Span)> {
    // Breadth-first search for the shortest way back to `start`, following dependents.
    let mut prev: BTreeMap<NodeIndex, (NodeIndex, Span)> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut found = false;
    'search: while let Some(n) = queue.pop_front() {
        let mut next: Vec<_> = g
            .graph
            .edges_directed(n, Direction::Outgoing)
            .filter(|e| members.contains(&e.target()))
            .map(|e| (e.target(), e.weight().span))
            .collect();
        next.sort_by(|a, b| g.address(a.0).cmp(g.address(b.0)));
        for (t, span) in next {
            if t == start {
                prev.insert(start, (n, span));
                found = true;
                break 'search;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(t) {
                e.insert((n, span));
                queue.push_back(t);
            }
        }
    }
    if !found {
        return vec![(start, Span::default())];
    }
    // Walk back from start to start; the edge n → t means t references n (at span).
    let mut path = Vec::new();
    let mut cur = start;
    loop {
        let Some(&(p, span)) = prev.get(&cur) else {
            break;
        };
        path.push((cur, span));
        cur = p;
        if cur == start || path.len() > members.len() {
            break;
        }
    }
    // Each item depends on the next (the span is its reference to it); the last depends on start.
    path
}
