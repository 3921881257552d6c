//! The attribute-level diff of two marked values, as [`Line`]s in Terraform's shape: only what
//! changed (with counts of what is hidden), nested maps and lists diffed recursively, multi-line
//! strings as a line diff, and `# forces replacement` on the attributes that force it.
//!
//! Nothing under a `Sensitive` mark is ever looked into for display: such a value is one line,
//! `(sensitive value)`, on both sides of a change.

use super::lines::Line;
use super::text::{self, SENSITIVE, UNKNOWN};
use crate::plan::Action;
use mlstack_provider_api::{Path, PathStep, Value};
use similar::{Algorithm, ChangeTag, DiffTag, TextDiff};
use std::collections::{BTreeMap, BTreeSet};

/// Unchanged lines of a multi-line string shown around each change.
const CONTEXT_LINES: usize = 3;

/// Collects the lines of one diff, and which replace paths it has shown.
pub(crate) struct Differ<'a> {
    replace: &'a [Path],
    hit: Vec<bool>,
    pub lines: Vec<Line>,
}

impl<'a> Differ<'a> {
    pub(crate) fn new(replace: &'a [Path]) -> Differ<'a> {
        Differ {
            replace,
            hit: vec![false; replace.len()],
            lines: Vec::new(),
        }
    }

    /// Replace paths no line was annotated with (e.g. an unchanged attribute that still forces
    /// replacement): the caller names them elsewhere.
    pub(crate) fn unshown_replace_paths(&self) -> Vec<&'a Path> {
        self.replace
            .iter()
            .zip(&self.hit)
            .filter(|(_, hit)| !**hit)
            .map(|(p, _)| p)
            .collect()
    }

    /// The body of a resource block (attributes at `depth`) for `action`.
    pub(crate) fn body(
        &mut self,
        depth: usize,
        action: Action,
        before: Option<&Value>,
        after: Option<&Value>,
    ) {
        let mut path = Vec::new();
        match action {
            Action::Create | Action::Read => {
                if let Some(a) = after {
                    self.top_whole(depth, a, Action::Create, &mut path);
                }
            }
            Action::Delete => {
                if let Some(b) = before {
                    self.top_whole(depth, b, Action::Delete, &mut path);
                }
            }
            _ => match (before.and_then(plain_map), after.and_then(plain_map)) {
                (Some(b), Some(a)) => {
                    self.map_children(depth, b, a, &mut path, "attribute");
                }
                _ => {
                    if !unchanged(before, after) {
                        self.entry(depth, "", before, after, &mut path, false);
                    }
                }
            },
        }
    }

    /// Entries of a named list of values (outputs): `name = value`, aligned.
    pub(crate) fn named(
        &mut self,
        depth: usize,
        entries: &[(String, Option<&Value>, Option<&Value>)],
    ) {
        let width = entries
            .iter()
            .map(|(k, _, _)| text::key(k).chars().count())
            .max()
            .unwrap_or(0);
        for (k, b, a) in entries {
            if unchanged(*b, *a) {
                continue;
            }
            let prefix = format!("{:<width$} = ", text::key(k));
            let mut path = vec![PathStep::Key(k.clone())];
            self.entry(depth, &prefix, *b, *a, &mut path, false);
        }
    }

    /// A top-level value shown whole: its attributes one per line when it is a plain map.
    fn top_whole(&mut self, depth: usize, v: &Value, action: Action, path: &mut Path) {
        match v {
            Value::Map(m) => self.whole_children_map(depth, m, action, path),
            other => self.whole(depth, "", other, action, path, false, ""),
        }
    }

    /// One map entry or list item: created, deleted or changed.
    fn entry(
        &mut self,
        depth: usize,
        prefix: &str,
        b: Option<&Value>,
        a: Option<&Value>,
        path: &mut Path,
        comma: bool,
    ) {
        match (present(b), present(a)) {
            (None, None) => {}
            (None, Some(a)) => self.whole(depth, prefix, a, Action::Create, path, comma, ""),
            (Some(b), None) => self.whole(depth, prefix, b, Action::Delete, path, comma, ""),
            (Some(b), Some(a)) => self.change(depth, prefix, b, a, path, comma),
        }
    }

    /// A value present on both sides that changed (callers skip unchanged ones).
    fn change(
        &mut self,
        depth: usize,
        prefix: &str,
        b: &Value,
        a: &Value,
        path: &mut Path,
        comma: bool,
    ) {
        let tail = if comma { "," } else { "" };
        if b.is_sensitive() || a.is_sensitive() {
            let text = if matches!(a, Value::Unknown) {
                format!("{prefix}{SENSITIVE} -> {UNKNOWN}{tail}")
            } else {
                format!("{prefix}{SENSITIVE}{tail}")
            };
            return self.push(Line::new(depth, Action::Update, text), path, true);
        }
        if matches!(a, Value::Unknown) {
            let unknown_tail = format!(" -> {UNKNOWN}{tail}");
            return match b {
                Value::Map(m) if !m.is_empty() => {
                    self.whole(depth, prefix, b, Action::Update, path, false, &unknown_tail)
                }
                Value::List(l) if !l.is_empty() => {
                    self.whole(depth, prefix, b, Action::Update, path, false, &unknown_tail)
                }
                _ => {
                    let text = format!("{prefix}{}{unknown_tail}", inline(b));
                    self.push(Line::new(depth, Action::Update, text), path, true)
                }
            };
        }
        match (b, a) {
            (Value::Map(bm), Value::Map(am)) if !bm.is_empty() && !am.is_empty() => {
                self.push(
                    Line::new(depth, Action::Update, format!("{prefix}{{")),
                    path,
                    false,
                );
                self.map_children(depth + 1, bm, am, path, "attribute");
                self.lines.push(Line::plain(depth, format!("}}{tail}")));
            }
            (Value::List(bl), Value::List(al)) if !bl.is_empty() && !al.is_empty() => {
                self.push(
                    Line::new(depth, Action::Update, format!("{prefix}[")),
                    path,
                    false,
                );
                self.list_children(depth + 1, bl, al, path);
                self.lines.push(Line::plain(depth, format!("]{tail}")));
            }
            (Value::String(bs), Value::String(as_)) if bs.contains('\n') || as_.contains('\n') => {
                self.text_change(depth, prefix, bs, as_, path, tail);
            }
            _ if is_inline(b) && is_inline(a) => {
                let text = format!("{prefix}{} -> {}{tail}", inline(b), inline(a));
                self.push(Line::new(depth, Action::Update, text), path, true);
            }
            _ => {
                // The type changed to or from a collection: show the old value go, the new come.
                self.whole(depth, prefix, b, Action::Delete, path, comma, "");
                self.whole(depth, prefix, a, Action::Create, path, comma, "");
            }
        }
    }

    /// A value shown whole, every line with `action` (`+` created, `-` deleted). `close` ends
    /// the last line (e.g. ` -> (known after apply)`).
    #[allow(clippy::too_many_arguments)]
    fn whole(
        &mut self,
        depth: usize,
        prefix: &str,
        v: &Value,
        action: Action,
        path: &mut Path,
        comma: bool,
        close: &str,
    ) {
        let tail = if !close.is_empty() {
            close.to_string()
        } else if comma {
            ",".to_string()
        } else if action == Action::Delete && !prefix.is_empty() {
            " -> null".to_string()
        } else {
            String::new()
        };
        let child_action = if action == Action::Update {
            Action::Delete
        } else {
            action
        };
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.push(Line::new(depth, action, format!("{prefix}{{")), path, false);
                self.whole_children_map(depth + 1, m, child_action, path);
                self.lines.push(Line::plain(depth, format!("}}{tail}")));
            }
            Value::List(l) if !l.is_empty() => {
                self.push(Line::new(depth, action, format!("{prefix}[")), path, false);
                for (i, item) in l.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    self.whole(depth + 1, "", item, child_action, path, true, "");
                    path.pop();
                }
                self.lines.push(Line::plain(depth, format!("]{tail}")));
            }
            Value::String(s) if s.contains('\n') => {
                self.push(
                    Line::new(depth, action, format!("{prefix}<<-EOT")),
                    path,
                    true,
                );
                for line in s.lines() {
                    self.lines.push(Line::plain(depth + 1, text::clean(line)));
                }
                self.lines.push(Line::plain(depth, format!("EOT{tail}")));
            }
            other => {
                let text = format!("{prefix}{}{tail}", inline(other));
                self.push(Line::new(depth, action, text), path, true);
            }
        }
    }

    /// Every non-null entry of a map, aligned, each shown whole.
    fn whole_children_map(
        &mut self,
        depth: usize,
        m: &BTreeMap<String, Value>,
        action: Action,
        path: &mut Path,
    ) {
        let shown: Vec<(&String, &Value)> = m
            .iter()
            .filter(|(_, v)| present(Some(v)).is_some())
            .collect();
        let width = key_width(shown.iter().map(|(k, _)| k.as_str()));
        for (k, v) in shown {
            let prefix = format!("{:<width$} = ", text::key(k));
            path.push(PathStep::Key(k.clone()));
            self.whole(depth, &prefix, v, action, path, false, "");
            path.pop();
        }
    }

    /// The changed entries of two maps, then a count of the unchanged ones.
    fn map_children(
        &mut self,
        depth: usize,
        b: &BTreeMap<String, Value>,
        a: &BTreeMap<String, Value>,
        path: &mut Path,
        noun: &str,
    ) {
        let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
        let mut hidden = 0;
        let mut shown = Vec::new();
        for k in keys {
            let (bv, av) = (b.get(k), a.get(k));
            if unchanged(bv, av) {
                if present(bv).is_some() {
                    hidden += 1;
                }
            } else {
                shown.push((k, bv, av));
            }
        }
        let width = key_width(shown.iter().map(|(k, _, _)| k.as_str()));
        for (k, bv, av) in shown {
            let prefix = format!("{:<width$} = ", text::key(k));
            path.push(PathStep::Key(k.clone()));
            self.entry(depth, &prefix, bv, av, path, false);
            path.pop();
        }
        if hidden > 0 {
            let what = text::plural(hidden, &format!("unchanged {noun}"));
            self.lines
                .push(Line::plain(depth, format!("# ({what} hidden)")));
        }
    }

    /// Two lists aligned by a longest-common-subsequence diff of their items; runs of equal
    /// items are counted, changed object items diffed in place.
    fn list_children(&mut self, depth: usize, b: &[Value], a: &[Value], path: &mut Path) {
        let fb: Vec<String> = b
            .iter()
            .enumerate()
            .map(|(i, v)| fingerprint(v, 'b', i))
            .collect();
        let fa: Vec<String> = a
            .iter()
            .enumerate()
            .map(|(i, v)| fingerprint(v, 'a', i))
            .collect();
        for op in similar::capture_diff_slices(Algorithm::Myers, &fb, &fa) {
            let (tag, old, new) = op.as_tag_tuple();
            match tag {
                DiffTag::Equal => {
                    let what = text::plural(old.len(), "unchanged element");
                    self.lines
                        .push(Line::plain(depth, format!("# ({what} hidden)")));
                }
                DiffTag::Delete => self.list_items(depth, b, old, Action::Delete, path),
                DiffTag::Insert => self.list_items(depth, a, new, Action::Create, path),
                DiffTag::Replace => {
                    let paired = old.len().min(new.len());
                    for k in 0..paired {
                        let (i, j) = (old.start + k, new.start + k);
                        if same_kind_collection(&b[i], &a[j]) {
                            path.push(PathStep::Index(j));
                            self.change(depth, "", &b[i], &a[j], path, true);
                            path.pop();
                        } else {
                            self.list_items(depth, b, i..i + 1, Action::Delete, path);
                            self.list_items(depth, a, j..j + 1, Action::Create, path);
                        }
                    }
                    self.list_items(depth, b, old.start + paired..old.end, Action::Delete, path);
                    self.list_items(depth, a, new.start + paired..new.end, Action::Create, path);
                }
            }
        }
    }

    fn list_items(
        &mut self,
        depth: usize,
        items: &[Value],
        range: std::ops::Range<usize>,
        action: Action,
        path: &mut Path,
    ) {
        for i in range {
            if let Some(v) = items.get(i) {
                path.push(PathStep::Index(i));
                self.whole(depth, "", v, action, path, true, "");
                path.pop();
            }
        }
    }

    /// A multi-line string changed: a line diff with context, like a unified diff.
    fn text_change(
        &mut self,
        depth: usize,
        prefix: &str,
        old: &str,
        new: &str,
        path: &mut Path,
        tail: &str,
    ) {
        self.push(
            Line::new(depth, Action::Update, format!("{prefix}<<-EOT")),
            path,
            true,
        );
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .diff_lines(old, new);
        let total = diff.old_slices().len();
        let mut shown_to = 0;
        for group in diff.grouped_ops(CONTEXT_LINES) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            self.hidden_lines(depth + 1, first.old_range().start.saturating_sub(shown_to));
            for op in &group {
                for change in diff.iter_changes(op) {
                    let action = match change.tag() {
                        ChangeTag::Equal => Action::NoOp,
                        ChangeTag::Delete => Action::Delete,
                        ChangeTag::Insert => Action::Create,
                    };
                    let line = change.value().trim_end_matches(['\n', '\r']);
                    self.lines
                        .push(Line::new(depth + 1, action, text::clean(line)));
                }
            }
            shown_to = last.old_range().end;
        }
        self.hidden_lines(depth + 1, total.saturating_sub(shown_to));
        self.lines.push(Line::plain(depth, format!("EOT{tail}")));
    }

    fn hidden_lines(&mut self, depth: usize, n: usize) {
        if n > 0 {
            let what = text::plural(n, "unchanged line");
            self.lines
                .push(Line::plain(depth, format!("# ({what} hidden)")));
        }
    }

    /// Adds a line, marking it `# forces replacement` when its path is a replace path (or, for
    /// a value shown on one line, contains one).
    fn push(&mut self, mut line: Line, path: &[PathStep], one_line: bool) {
        for (p, hit) in self.replace.iter().zip(self.hit.iter_mut()) {
            if p.as_slice() == path || (one_line && p.starts_with(path)) {
                line.forces = true;
                *hit = true;
            }
        }
        self.lines.push(line);
    }
}

/// The map, only when the value is a plain (unmarked) map.
fn plain_map(v: &Value) -> Option<&BTreeMap<String, Value>> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

/// `None` for an absent or null value: both read as "not set".
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !matches!(v, Value::Null))
}

/// Whether an entry would show no change (an unknown is never unchanged).
fn unchanged(b: Option<&Value>, a: Option<&Value>) -> bool {
    match (present(b), present(a)) {
        (None, None) => true,
        (Some(b), Some(a)) => b.is_sensitive() == a.is_sensitive() && b.same_data(a),
        _ => false,
    }
}

/// Fits on one line: scalars, marks and empty collections.
fn is_inline(v: &Value) -> bool {
    match v {
        Value::Map(m) => m.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::String(s) => !s.contains('\n'),
        _ => true,
    }
}

fn inline(v: &Value) -> String {
    text::scalar(v)
}

fn same_kind_collection(b: &Value, a: &Value) -> bool {
    matches!(
        (b, a),
        (Value::Map(x), Value::Map(y)) if !x.is_empty() && !y.is_empty()
    ) || matches!(
        (b, a),
        (Value::List(x), Value::List(y)) if !x.is_empty() && !y.is_empty()
    )
}

/// A comparison key for list items (held in memory only, never shown). Items holding an
/// unknown never compare equal.
fn fingerprint(v: &Value, side: char, index: usize) -> String {
    if v.contains_unknown() {
        return format!("\u{0}unknown:{side}:{index}");
    }
    let mut key = v.to_json_unmarked().to_string();
    if v.contains_sensitive() {
        key.push('\u{0}');
        for p in v.sensitive_paths() {
            key.push_str(&mlstack_provider_api::path_to_string(&p));
            key.push('\u{0}');
        }
    }
    key
}

fn key_width<'k>(keys: impl Iterator<Item = &'k str>) -> usize {
    keys.map(|k| text::key(k).chars().count())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlstack_provider_api::parse_path;
    use serde_json::json;

    fn render(action: Action, b: Option<Value>, a: Option<Value>, replace: &[Path]) -> String {
        let mut d = Differ::new(replace);
        d.body(1, action, b.as_ref(), a.as_ref());
        d.lines
            .iter()
            .map(|l| l.human(false))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn list_of_objects_diffed_in_place_with_nested_forces() {
        let b = v(json!({"ports": [{"port": 80, "name": "http"}]}));
        let a = v(json!({"ports": [{"port": 8080, "name": "http"}]}));
        let out = render(
            Action::DeleteThenCreate,
            Some(b),
            Some(a),
            &[parse_path("ports[0].port")],
        );
        assert_eq!(
            out,
            "      ~ ports = [\n          ~ {\n              ~ port = 80 -> 8080 # forces replacement\n                # (1 unchanged attribute hidden)\n            },\n        ]"
        );
    }

    #[test]
    fn type_change_and_unknown_collection() {
        let b = v(json!({"x": "a", "tags": {"k": "v"}}));
        let mut a = v(json!({"x": ["a"]}));
        a.set_path(&parse_path("tags"), Value::Unknown);
        let out = render(Action::Update, Some(b), Some(a), &[]);
        assert!(
            out.contains(
                "      ~ tags = {\n          - k = \"v\" -> null\n        } -> (known after apply)"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "      - x    = \"a\" -> null\n      + x    = [\n          + \"a\",\n        ]"
            ),
            "{out}"
        );
    }

    #[test]
    fn sensitive_whole_value_and_sensitive_to_unknown() {
        let out = render(
            Action::Create,
            None,
            Some(v(json!({"a": 1})).into_sensitive()),
            &[],
        );
        assert_eq!(out, "      + (sensitive value)");
        let b = v(json!({"p": "x"})).with_sensitive_paths(&[parse_path("p")]);
        let mut a = v(json!({}));
        a.set_path(&parse_path("p"), Value::Unknown);
        let out = render(Action::Update, Some(b), Some(a), &[]);
        assert_eq!(out, "      ~ p = (sensitive value) -> (known after apply)");
    }

    #[test]
    fn forces_on_a_line_inside_a_sensitive_value() {
        let b = v(json!({"s": {"k": "1"}})).with_sensitive_paths(&[parse_path("s")]);
        let a = v(json!({"s": {"k": "2"}})).with_sensitive_paths(&[parse_path("s")]);
        let replace = [parse_path("s.k")];
        let mut d = Differ::new(&replace);
        d.body(1, Action::DeleteThenCreate, Some(&b), Some(&a));
        assert!(d.lines[0].forces);
        assert!(d.unshown_replace_paths().is_empty());
        assert_eq!(
            d.lines[0].human(false),
            "      ~ s = (sensitive value) # forces replacement"
        );
    }

    #[test]
    fn null_and_absent_are_the_same() {
        let out = render(
            Action::Update,
            Some(v(json!({"a": null, "b": 1}))),
            Some(v(json!({"b": 2}))),
            &[],
        );
        assert_eq!(out, "      ~ b = 1 -> 2");
    }
}
