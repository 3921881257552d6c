//! Atomic file writes shared by the emulators' persistence: a crash never leaves half a file.

use std::path::Path;

/// Writes via a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write(path, bytes, false)
}

/// Like [`write_atomic`], readable by the owner only (keys, tokens).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write(path, bytes, true)
}

fn write(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    use std::io::Write;
    let parent = path.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename {}: {e}", path.display()))
}
