//! Crash-safe file replacement: a reader (or a run after a crash or power loss) sees either the
//! old content or the new, never a torn file, and the previous content survives as a backup.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of state files and their backups: they hold secrets.
pub const FILE_MODE: u32 = 0o600;
/// Mode of directories created for state.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents with mode 0700 (existing directories are left as is).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Replaces `path` with `bytes`: temp file in the same directory (mode 0600), fsync, the old
/// file linked (or copied) to `backup`, rename over `path`, fsync the directory.
pub fn replace_file(path: &Path, backup: Option<&Path>, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let tmp = sibling(path, "tmp");
    let result = write_new(&tmp, bytes).and_then(|_| {
        if let Some(backup) = backup {
            keep_backup(path, backup)?;
        }
        fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&dir)
}

/// Writes a brand-new file (never an existing one) with mode 0600 and flushes it to disk.
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    // The umask may have narrowed the mode; make it exactly 0600.
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes `backup` a copy of the current `path` (if any), replacing the old backup atomically.
fn keep_backup(path: &Path, backup: &Path) -> io::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let tmp = sibling(backup, "tmp");
    // A hard link costs nothing and shares the old file's bytes, which the rename below
    // detaches from `path`; fall back to a copy where links are not supported.
    let linked_or_copied = fs::hard_link(path, &tmp).or_else(|_| {
        let _ = fs::remove_file(&tmp);
        fs::copy(path, &tmp)?;
        File::open(&tmp)?.sync_all()
    });
    let result = linked_or_copied
        .and_then(|_| fs::set_permissions(&tmp, Permissions::from_mode(FILE_MODE)))
        .and_then(|_| fs::rename(&tmp, backup));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// fsync on a directory makes a rename inside it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A unique hidden file name beside `path`: `.state.json.tmp.<pid>.<random>`.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    parent_dir(path).join(format!(
        ".{name}.{what}.{}.{}",
        std::process::id(),
        &unique[..8]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_keeps_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        let backup = dir.path().join("sub/state.json.backup");
        replace_file(&path, Some(&backup), b"one").unwrap();
        assert!(!backup.exists());
        replace_file(&path, Some(&backup), b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read(&backup).unwrap(), b"one");
        replace_file(&path, Some(&backup), b"three").unwrap();
        assert_eq!(fs::read(&backup).unwrap(), b"two");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&backup), 0o600);
        assert_eq!(mode(&dir.path().join("sub")), 0o700);
        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
