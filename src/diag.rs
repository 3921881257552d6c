//! Diagnostics that point into stack files: `file:line:col`, the offending text underlined, and a
//! hint. Every stage reports problems in a stack file through these, rendered by miette.

use std::fmt;
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
pub type FileId = u32;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as the user gave it).
    pub name: String,
    pub text: Arc<str>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

/// Snippets read only a window of lines around the span: miette's own reader walks the whole
/// file byte by byte for every label, which is slow for large files with many problems.
impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let bytes = self.text.as_bytes();
        let start = span.offset().min(bytes.len());
        let end = (span.offset() + span.len()).min(bytes.len());
        // From the start of the line `before + 1` lines above the span...
        let mut ws = start;
        for _ in 0..=before {
            match bytes[..ws].iter().rposition(|&b| b == b'\n') {
                Some(i) => ws = i,
                None => {
                    ws = 0;
                    break;
                }
            }
        }
        if ws > 0 {
            ws += 1;
        }
        // ...to the end of the line `after + 1` lines below it.
        let mut we = end;
        for _ in 0..=after {
            match bytes[we..].iter().position(|&b| b == b'\n') {
                Some(i) => we += i + 1,
                None => {
                    we = bytes.len();
                    break;
                }
            }
        }
        let lines_before = bytes[..ws].iter().filter(|&&b| b == b'\n').count();
        let window = &bytes[ws..we];
        let local = miette::SourceSpan::new((start - ws).into(), end - start);
        let inner = window.read_span(&local, before, after)?;
        let offset = inner.span().offset() + ws;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            miette::SourceSpan::new(offset.into(), inner.span().len()),
            inner.line() + lines_before,
            inner.column(),
            inner.line_count() + lines_before,
        )))
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Every file a stack was loaded from (the stack, var files, module templates as rendered).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
        });
        (self.files.len() - 1) as FileId
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }

    /// `file:line:col` of a span's start.
    pub fn location(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(f) => {
                let (l, c) = f.line_col(span.start as usize);
                format!("{}:{}:{}", f.name, l, c)
            }
            None => "<unknown>".to_string(),
        }
    }
}

/// One problem in a stack.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// A stable code, e.g. `unknown-key`, for tests and for users searching docs.
    pub code: &'static str,
    pub message: String,
    /// The main place; `None` for problems without a place (a missing file).
    pub span: Option<Span>,
    /// Text under the underline.
    pub label: String,
    /// Further places (e.g. the other steps of a cycle, the first definition of a duplicate).
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span: None,
            label: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.span = Some(span);
        self.label = label.into();
        self
    }

    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Most diagnostics rendered in one report: each costs a scan of its file, and hundreds of
/// problems are better fixed from the first few anyway.
const MAX_RENDERED: usize = 50;

/// A set of diagnostics with the sources they point into. This is the error type of every
/// stage that reads stack files.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub sources: Arc<SourceMap>,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(sources: Arc<SourceMap>, items: Vec<Diagnostic>) -> Self {
        Diagnostics { sources, items }
    }

    pub fn single(sources: Arc<SourceMap>, item: Diagnostic) -> Self {
        Diagnostics {
            sources,
            items: vec![item],
        }
    }

    /// Renders every diagnostic with miette (colour when `color`), each headed by `file:line:col`.
    pub fn render(&self, color: bool) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        })
        .with_width(120);
        let mut out = String::new();
        for item in self.items.iter().take(MAX_RENDERED) {
            let report = Rendered {
                item,
                sources: &self.sources,
            };
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&report.to_string());
            }
            out.push('\n');
        }
        let n = self.items.len();
        if n > MAX_RENDERED {
            out.push_str(&format!(
                "... and {} more problems not shown (fix these first).\n",
                n - MAX_RENDERED
            ));
        }
        if n > 1 {
            out.push_str(&format!("{n} problems found.\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in self.items.iter().take(MAX_RENDERED) {
            writeln!(
                f,
                "{}",
                Rendered {
                    item,
                    sources: &self.sources
                }
            )?;
        }
        if self.items.len() > MAX_RENDERED {
            writeln!(
                f,
                "... and {} more problems",
                self.items.len() - MAX_RENDERED
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A diagnostic paired with its sources so miette can show the snippet.
struct Rendered<'a> {
    item: &'a Diagnostic,
    sources: &'a SourceMap,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item.span {
            Some(span) => write!(f, "{}: {}", self.sources.location(span), self.item.message),
            None => write!(f, "{}", self.item.message),
        }
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.item.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.item
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        let span = self.item.span?;
        let file = self.sources.get(span.file)?;
        if line_len_at(&file.text, span.start as usize) > MAX_SNIPPET_LINE {
            // A snippet of a huge line (minified or generated input) would flood the terminal;
            // `file:line:col` in the heading still says where.
            return None;
        }
        Some(file as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.item.span?;
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            Some(self.item.label.clone()),
            (span.start as usize, span.len()),
        )];
        for (s, l) in &self.item.related {
            if s.file == span.file {
                labels.push(miette::LabeledSpan::new_with_span(
                    Some(l.clone()),
                    (s.start as usize, s.len()),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Longest source line shown in a snippet.
const MAX_SNIPPET_LINE: usize = 400;

/// Length in bytes of the line holding `offset`.
fn line_len_at(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| offset + i);
    end - start
}

/// The valid name closest to `given`, for "did you mean" hints.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(given, c);
        if score > 0.75 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_show_the_right_lines_of_large_files() {
        let mut text = String::new();
        for i in 1..=2000 {
            text.push_str(&format!("line{i}: value\n"));
        }
        let mut sources = SourceMap::default();
        let file = sources.add("big.yaml", text.as_str());
        let at = text.find("line1500:").expect("line 1500");
        let d = Diagnostics::single(
            Arc::new(sources),
            Diagnostic::new("test", "here").at(Span::new(file, at, at + 8), "this one"),
        );
        let out = d.render(false);
        assert!(out.contains("big.yaml:1500:1: here"), "{out}");
        assert!(out.contains("1499 │ line1499: value"), "{out}");
        assert!(out.contains("1500 │ line1500: value"), "{out}");
        assert!(out.contains("1501 │ line1501: value"), "{out}");
    }

    #[test]
    fn huge_lines_and_many_problems_are_cut_short() {
        let text = format!("a: {}\n", "x".repeat(1000));
        let mut sources = SourceMap::default();
        let file = sources.add("wide.yaml", text.as_str());
        let items = (0..60)
            .map(|_| Diagnostic::new("test", "wide").at(Span::new(file, 500, 501), "x"))
            .collect();
        let out = Diagnostics::new(Arc::new(sources), items).render(false);
        assert!(!out.contains(&"x".repeat(1000)));
        assert!(out.contains("... and 10 more problems not shown"), "{out}");
        assert!(out.contains("60 problems found."));
    }
}
