//! A YAML tree where every node and every mapping key keeps its byte span, built iteratively from
//! `saphyr-parser` events so hostile input (deep nesting, alias bombs) cannot exhaust the stack
//! or the memory: nesting is capped, and so is the number of nodes aliases may copy.

use super::yaml_scalar::resolve_plain;
use crate::diag::{Diagnostic, FileId, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use std::collections::HashMap;

/// Deepest nesting of collections accepted (the tree is walked recursively later).
pub const MAX_DEPTH: usize = 200;
/// The YAML merge key.
const MERGE_KEY: &str = "<<";

/// Most nodes that aliases may copy in one file (a "billion laughs" stops here).
pub const MAX_ALIAS_NODES: usize = 200_000;

/// A YAML node with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// What a node holds. Plain scalars are resolved with the YAML 1.2 core schema; quoted and
/// block scalars are strings.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// A short name of the node's kind for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "bool",
            NodeKind::Int(_) | NodeKind::Float(_) => "number",
            NodeKind::Str(_) => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }

    /// The entry under `key` when this is a mapping.
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }
}

/// Converts the parser's character offsets into byte offsets, walking a cursor that mostly
/// moves forward (events come in file order), so the whole file costs linear time.
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        Offsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        while self.chars < char_index && self.bytes < self.text.len() {
            let width = self.text[self.bytes..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            self.bytes += width;
            self.chars += 1;
        }
        while self.chars > char_index && self.bytes > 0 {
            self.bytes -= 1;
            while self.bytes > 0 && !self.text.is_char_boundary(self.bytes) {
                self.bytes -= 1;
            }
            self.chars -= 1;
        }
        self.bytes
    }

    fn span(&mut self, file: FileId, s: &saphyr_parser::Span) -> Span {
        let start = self.byte(s.start.index());
        let end = self.byte(s.end.index());
        Span::new(file, start, end)
    }
}

/// An open collection while its children are parsed.
enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
        count: usize,
        height: usize,
    },
    Map {
        entries: Vec<Entry>,
        span: Span,
        anchor: usize,
        count: usize,
        height: usize,
        key: Option<(String, Span)>,
        seen: HashMap<String, Span>,
    },
}

/// A finished node with its size (nodes) and height (nesting levels), for the limits.
struct Built {
    node: Node,
    count: usize,
    height: usize,
}

/// Parses one YAML document strictly: any problem is an error. `Ok(None)` when the file holds
/// no document (empty or only comments).
pub fn parse(text: &str, file: FileId) -> Result<Option<Node>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    match parse_lenient(text, file, &mut diags) {
        Ok(root) if diags.is_empty() => Ok(root),
        _ => Err(diags),
    }
}

/// Parses one YAML document, pushing problems to `diags`. Problems that do not stop parsing
/// (duplicate keys: the first one wins; unsupported tags) leave a usable tree; `Err(())` when
/// parsing stopped.
pub fn parse_lenient(
    text: &str,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<Node>, ()> {
    let mut builder = Builder {
        offsets: Offsets::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        diags: Vec::new(),
    };
    let result = builder.run(text, file);
    diags.append(&mut builder.diags);
    result.map(|()| builder.root)
}

impl Builder<'_> {
    fn run(&mut self, text: &str, file: FileId) -> Result<(), ()> {
        let builder = self;
        let mut documents = 0usize;
        for event in Parser::new_from_str(text) {
            let (event, span) = match event {
                Ok(ok) => ok,
                Err(e) => {
                    let at = builder.offsets.byte(e.marker().index());
                    let end = next_char_end(text, at);
                    let span = Span::new(file, at, end);
                    builder.diags.push(if e.info().contains("recursion limit") {
                        // The scanner's own flow-nesting limit, met before ours.
                        too_deep(span)
                    } else {
                        Diagnostic::new("yaml-syntax", format!("invalid YAML: {}", e.info()))
                            .at(span, e.info().to_string())
                    });
                    return Err(());
                }
            };
            let sp = builder.offsets.span(file, &span);
            let step = match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        builder.diags.push(
                            Diagnostic::new(
                                "yaml-multiple-documents",
                                "only one YAML document is allowed per file",
                            )
                            .at(sp, "a second document starts here")
                            .help("remove the `---` separator and merge the documents"),
                        );
                        return Err(());
                    }
                    Ok(())
                }
                Event::Scalar(value, style, anchor, tag) => {
                    builder.scalar(&value, style, anchor, tag.as_deref(), sp)
                }
                Event::SequenceStart(anchor, tag) => {
                    builder.check_collection_tag(tag.as_deref(), "seq", sp);
                    builder.open(
                        Frame::Seq {
                            items: Vec::new(),
                            span: sp,
                            anchor,
                            count: 1,
                            height: 1,
                        },
                        sp,
                    )
                }
                Event::MappingStart(anchor, tag) => {
                    builder.check_collection_tag(tag.as_deref(), "map", sp);
                    builder.open(
                        Frame::Map {
                            entries: Vec::new(),
                            span: sp,
                            anchor,
                            count: 1,
                            height: 1,
                            key: None,
                            seen: HashMap::new(),
                        },
                        sp,
                    )
                }
                Event::SequenceEnd | Event::MappingEnd => builder.close(sp),
                Event::Alias(id) => builder.alias(id, sp),
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {
                    Ok(())
                }
            };
            step?;
        }
        Ok(())
    }
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        "yaml-too-deep",
        format!("nesting deeper than {MAX_DEPTH} levels"),
    )
    .at(span, "too deep")
    .help("a stack file never needs this much nesting; is the file generated wrongly?")
}

fn next_char_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at, |c| at + c.len_utf8())
}

struct Builder<'t> {
    offsets: Offsets<'t>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize, usize)>,
    alias_nodes: usize,
    root: Option<Node>,
    diags: Vec<Diagnostic>,
}

/// `Err(())` means a fatal diagnostic was pushed and parsing stops.
type Step = Result<(), ()>;

impl Builder<'_> {
    fn open(&mut self, frame: Frame, sp: Span) -> Step {
        if self.stack.len() >= MAX_DEPTH {
            self.diags.push(too_deep(sp));
            return Err(());
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: Span) -> Step {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (node, anchor, count, height) = match frame {
            Frame::Seq {
                items,
                span,
                anchor,
                count,
                height,
            } => (
                Node {
                    kind: NodeKind::Seq(items),
                    span: collection_span(span, end),
                },
                anchor,
                count,
                height,
            ),
            Frame::Map {
                entries,
                span,
                anchor,
                count,
                height,
                seen,
                ..
            } => (
                Node {
                    kind: NodeKind::Map(self.merge_keys(entries, seen)),
                    span: collection_span(span, end),
                },
                anchor,
                count,
                height,
            ),
        };
        self.finish(
            Built {
                node,
                count,
                height,
            },
            anchor,
        )
    }

    /// Applies YAML merge keys (`<<: *defaults`, or a list of them): entries of the merged
    /// mappings that the mapping does not set itself are added after its own.
    fn merge_keys(&mut self, entries: Vec<Entry>, mut seen: HashMap<String, Span>) -> Vec<Entry> {
        if !entries.iter().any(|e| e.key == MERGE_KEY) {
            return entries;
        }
        let mut own = Vec::with_capacity(entries.len());
        let mut merged = Vec::new();
        for e in entries {
            if e.key != MERGE_KEY {
                own.push(e);
                continue;
            }
            match e.value.kind {
                NodeKind::Map(m) => merged.push(m),
                NodeKind::Seq(items)
                    if items.iter().all(|i| matches!(i.kind, NodeKind::Map(_))) =>
                {
                    for item in items {
                        if let NodeKind::Map(m) = item.kind {
                            merged.push(m);
                        }
                    }
                }
                _ => self.diags.push(
                    Diagnostic::new("yaml-merge", "`<<` merges a mapping or a list of mappings")
                        .at(e.key_span, "nothing to merge"),
                ),
            }
        }
        seen.remove(MERGE_KEY);
        for m in merged {
            for e in m {
                if !seen.contains_key(&e.key) {
                    seen.insert(e.key.clone(), e.key_span);
                    own.push(e);
                }
            }
        }
        own
    }

    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        sp: Span,
    ) -> Step {
        let kind = match tag {
            Some(t) if t.is_yaml_core_schema() => match t.suffix.as_str() {
                "str" => NodeKind::Str(value.to_string()),
                _ => resolve_plain(value),
            },
            Some(t) => {
                self.diags.push(
                    Diagnostic::new(
                        "yaml-tag",
                        format!("unsupported YAML tag `{t}`"),
                    )
                    .at(sp, "unsupported tag")
                    .help("only the core tags (!!str, !!int, !!float, !!bool, !!null) are allowed"),
                );
                NodeKind::Str(value.to_string())
            }
            None if style == ScalarStyle::Plain => resolve_plain(value),
            None => NodeKind::Str(value.to_string()),
        };
        self.finish(
            Built {
                node: Node { kind, span: sp },
                count: 1,
                height: 0,
            },
            anchor,
        )
    }

    fn check_collection_tag(&mut self, tag: Option<&Tag>, expected: &str, sp: Span) {
        if let Some(t) = tag {
            if !(t.is_yaml_core_schema() && t.suffix == expected) {
                self.diags.push(
                    Diagnostic::new("yaml-tag", format!("unsupported YAML tag `{t}`"))
                        .at(sp, "unsupported tag"),
                );
            }
        }
    }

    fn alias(&mut self, id: usize, sp: Span) -> Step {
        let Some((node, count, height)) = self.anchors.get(&id) else {
            self.diags.push(
                Diagnostic::new("yaml-syntax", "alias to an unknown anchor").at(sp, "unknown"),
            );
            return Err(());
        };
        let (count, height) = (*count, *height);
        self.alias_nodes = self.alias_nodes.saturating_add(count);
        if self.alias_nodes > MAX_ALIAS_NODES {
            self.diags.push(
                Diagnostic::new(
                    "yaml-alias-bomb",
                    format!("alias expansion too large (more than {MAX_ALIAS_NODES} nodes)"),
                )
                .at(sp, "this alias pushes the expansion over the limit")
                .help("aliases that refer to aliases grow exponentially (a \"billion laughs\")"),
            );
            return Err(());
        }
        if self.stack.len() + height > MAX_DEPTH {
            self.diags.push(
                Diagnostic::new(
                    "yaml-too-deep",
                    format!("nesting deeper than {MAX_DEPTH} levels after expanding this alias"),
                )
                .at(sp, "too deep"),
            );
            return Err(());
        }
        let mut node = node.clone();
        node.span = sp;
        self.finish(
            Built {
                node,
                count,
                height,
            },
            0,
        )
    }

    /// Records an anchor, then attaches the node to its parent (or makes it the root).
    fn finish(&mut self, built: Built, anchor: usize) -> Step {
        if anchor != 0 {
            self.alias_nodes = self.alias_nodes.saturating_add(built.count);
            if self.alias_nodes > MAX_ALIAS_NODES {
                self.diags.push(
                    Diagnostic::new(
                        "yaml-alias-bomb",
                        format!("alias expansion too large (more than {MAX_ALIAS_NODES} nodes)"),
                    )
                    .at(built.node.span, "anchored here"),
                );
                return Err(());
            }
            self.anchors
                .insert(anchor, (built.node.clone(), built.count, built.height));
        }
        let Built {
            node,
            count,
            height,
        } = built;
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
            }
            Some(Frame::Seq {
                items,
                count: c,
                height: h,
                ..
            }) => {
                items.push(node);
                *c += count;
                *h = (*h).max(height + 1);
            }
            Some(Frame::Map {
                entries,
                count: c,
                height: h,
                key,
                seen,
                ..
            }) => {
                *c += count;
                *h = (*h).max(height + 1);
                match key.take() {
                    None => {
                        let text = match &node.kind {
                            NodeKind::Str(s) => s.clone(),
                            NodeKind::Null => "null".to_string(),
                            NodeKind::Bool(b) => b.to_string(),
                            NodeKind::Int(i) => i.to_string(),
                            NodeKind::Float(f) => f.to_string(),
                            NodeKind::Seq(_) | NodeKind::Map(_) => {
                                self.diags.push(
                                    Diagnostic::new(
                                        "yaml-complex-key",
                                        "mapping keys must be plain strings",
                                    )
                                    .at(node.span, "a collection used as a key"),
                                );
                                String::new()
                            }
                        };
                        *key = Some((text, node.span));
                    }
                    Some((k, key_span)) => {
                        if let Some(first) = seen.get(&k) {
                            self.diags.push(
                                Diagnostic::new(
                                    "yaml-duplicate-key",
                                    format!("duplicate key `{k}`"),
                                )
                                .at(key_span, "defined again here")
                                .also(*first, "first defined here"),
                            );
                        } else {
                            seen.insert(k.clone(), key_span);
                            entries.push(Entry {
                                key: k,
                                key_span,
                                value: node,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A collection's span: from its start to its end marker when both are on one line, else its
/// start only (a multi-line underline is noise).
fn collection_span(start: Span, end: Span) -> Span {
    let stop = if end.end > start.start && end.end - start.start <= 120 {
        end.end
    } else {
        start.end
    };
    Span {
        file: start.file,
        start: start.start,
        end: stop.max(start.start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse(text, 0).expect("parses").expect("a document")
    }

    #[test]
    fn quoted_scalars_are_strings_and_spans_are_bytes() {
        let text = "é: \"1\"\nb: 1\n";
        let n = doc(text);
        let NodeKind::Map(entries) = &n.kind else {
            panic!("map")
        };
        assert_eq!(entries[0].value.kind, NodeKind::Str("1".into()));
        assert_eq!(entries[1].value.kind, NodeKind::Int(1));
        let b = &entries[1];
        assert_eq!(
            &text[b.key_span.start as usize..b.key_span.end as usize],
            "b"
        );
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\na: 2\n", 0).expect_err("duplicate");
        assert_eq!(err[0].code, "yaml-duplicate-key");
    }

    #[test]
    fn aliases_expand_and_bombs_stop() {
        let n = doc("a: &x {k: v}\nb: *x\n");
        assert_eq!(n.get("b").map(|e| e.value.get("k").is_some()), Some(true));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&bomb, 0).expect_err("bomb");
        assert_eq!(err[0].code, "yaml-alias-bomb");
    }

    #[test]
    fn deep_nesting_stops() {
        let deep = "[".repeat(20_000);
        assert_eq!(parse(&deep, 0).expect_err("deep")[0].code, "yaml-too-deep");
        let mut block = String::new();
        for i in 0..300 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        let err = parse(&block, 0).expect_err("deep");
        assert_eq!(err[0].code, "yaml-too-deep", "{}", err[0].message);
    }

    #[test]
    fn merge_keys_fill_in_what_is_not_set() {
        let n = doc("base: &b {type: t, size: 1}\nx:\n  <<: *b\n  size: 2\n");
        let x = &n.get("x").expect("x").value;
        assert_eq!(
            x.get("size").map(|e| &e.value.kind),
            Some(&NodeKind::Int(2))
        );
        assert_eq!(
            x.get("type").map(|e| &e.value.kind),
            Some(&NodeKind::Str("t".into()))
        );
        assert!(x.get("<<").is_none());
        assert!(parse("x: {<<: 1}\n", 0).is_err());
    }

    #[test]
    fn empty_and_multi_document() {
        assert_eq!(parse("# only a comment\n", 0).expect("ok"), None);
        let err = parse("a: 1\n---\nb: 2\n", 0).expect_err("two docs");
        assert_eq!(err[0].code, "yaml-multiple-documents");
    }
}
