//! Reading a source file with the whole-file guards: missing, a directory, too large, not
//! UTF-8 — each a clear diagnostic instead of an I/O error.

use crate::diag::Diagnostic;
use std::io::Read;
use std::path::Path;

/// Largest stack file (or var file, module file) accepted.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Reads `path` as UTF-8 text. `what` names the file's role ("stack file", "var file").
pub fn read(path: &Path, what: &str) -> Result<String, Box<Diagnostic>> {
    read_inner(path, what).map_err(Box::new)
}

#[allow(clippy::result_large_err)] // internal; boxed at the public edge
fn read_inner(path: &Path, what: &str) -> Result<String, Diagnostic> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(
                Diagnostic::new("file-not-found", format!("{what} `{shown}` not found"))
                    .help("check the path; it is relative to the current directory"),
            );
        }
        Err(e) => {
            return Err(Diagnostic::new(
                "file-unreadable",
                format!("cannot read {what} `{shown}`: {e}"),
            ))
        }
    };
    if meta.is_dir() {
        return Err(Diagnostic::new(
            "not-a-file",
            format!("{what} `{shown}` is a directory, not a file"),
        )
        .help("give the path of a YAML file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(what, path, meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| {
        Diagnostic::new(
            "file-unreadable",
            format!("cannot read {what} `{shown}`: {e}"),
        )
    })?;
    // Read at most one byte more than the limit, in case the file grows meanwhile.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Diagnostic::new(
                "file-unreadable",
                format!("cannot read {what} `{shown}`: {e}"),
            )
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(what, path, bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&bytes[line_start..at])
            .chars()
            .count()
            + 1;
        Diagnostic::new(
            "not-utf8",
            format!(
                "{what} `{shown}` is not valid UTF-8: invalid byte at line {line}, column {col}"
            ),
        )
        .help("save the file as UTF-8")
    })
}

fn too_large(what: &str, path: &Path, len: u64) -> Diagnostic {
    Diagnostic::new(
        "file-too-large",
        format!(
            "{what} `{}` is too large ({:.1} MiB; the limit is 10 MiB)",
            path.display(),
            len as f64 / (1024.0 * 1024.0)
        ),
    )
    .help("split the stack into modules")
}

/// Whether a text holds nothing but whitespace and comments (checked after YAML parsing found
/// no document, to word the diagnostic).
pub fn empty_file(what: &str, path: &Path) -> Diagnostic {
    Diagnostic::new(
        "empty-file",
        format!(
            "{what} `{}` is empty (it holds no YAML document)",
            path.display()
        ),
    )
    .help("a stack file starts with:\nstack:\n  name: my-stack")
}
