//! Persistence of the cloud's state as JSON under the data directory: one file per resource
//! (`resources/<kind>/<key>.json`) and per operation (`operations/<id>.json`), small maps in
//! single files (`tokens.json`, `bindings.json`). Without a directory everything stays in
//! memory.

use super::errors::CloudError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The data directory, if any.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    dir: Option<PathBuf>,
}

impl Disk {
    pub fn new(dir: Option<PathBuf>) -> Disk {
        Disk { dir }
    }

    /// Writes one entry of a table (a directory of JSON files), owner-readable only (a
    /// cluster's record holds its Kubernetes token).
    pub fn put<T: Serialize>(&self, table: &str, key: &str, value: &T) -> Result<(), CloudError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let path = dir.join(table).join(format!("{}.json", file_key(key)));
        write_json(&path, value, true)
    }

    /// Removes one entry of a table (absent is fine).
    pub fn remove(&self, table: &str, key: &str) -> Result<(), CloudError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let path = dir.join(table).join(format!("{}.json", file_key(key)));
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CloudError::internal(format!(
                "cannot remove {}: {e}",
                path.display()
            ))),
        }
    }

    /// Every entry of a table, in file-name order.
    pub fn load<T: DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, String> {
        let Some(dir) = &self.dir else {
            return Ok(Vec::new());
        };
        let dir = dir.join(table);
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|f| read_json(f)).collect()
    }

    /// Writes a single-file map (mode 0600 when `private`).
    pub fn put_file<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        private: bool,
    ) -> Result<(), CloudError> {
        match &self.dir {
            Some(dir) => write_json(&dir.join(name), value, private),
            None => Ok(()),
        }
    }

    /// Reads a single-file map; absent is `None`.
    pub fn load_file<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, String> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let path = dir.join(name);
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T, private: bool) -> Result<(), CloudError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| CloudError::internal(e.to_string()))?;
    let r = if private {
        crate::files::write_private(path, &text)
    } else {
        crate::files::write_atomic(path, &text)
    };
    r.map_err(CloudError::internal)
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("corrupt {}: {e}", path.display()))
}

/// A key as a file name: bytes outside `[A-Za-z0-9._-]` become `%XX` (`/` of child keys).
fn file_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn tables_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let d = Disk::new(Some(dir.path().to_path_buf()));
        d.put("t/x", "c1/topic", &json!({"a": 1})).unwrap();
        d.put("t/x", "..", &json!({"a": 2})).unwrap();
        let all: Vec<Value> = d.load("t/x").unwrap();
        assert_eq!(all.len(), 2);
        d.remove("t/x", "c1/topic").unwrap();
        d.remove("t/x", "missing").unwrap();
        assert_eq!(d.load::<Value>("t/x").unwrap(), vec![json!({"a": 2})]);
        assert_eq!(file_key("c1/t.x"), "c1%2Ft.x");
        assert_eq!(file_key(".."), "%2E.");
    }
}
