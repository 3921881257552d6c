//! The state lock. An OS file lock (`flock`) on `state.json.lock` guards the state for a whole
//! plan/apply: the kernel drops it when its holder exits, even under SIGKILL, so a crashed run
//! never blocks the next one. The holder's description is written into the same file so that a
//! blocked run can say who holds it.
//!
//! The lock file is never deleted: deleting it would let a waiter lock the old (unlinked) file
//! while a newcomer locks a new one. Releasing empties it instead.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Who holds (or wants) the lock, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A fresh id per acquisition (to tell two runs of the same command apart).
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// The command line, with `--var` values masked (they may be secrets).
    pub command: String,
    /// What the holder is doing: `plan`, `apply`, `state rm`, ...
    pub operation: String,
    /// When the lock was taken, RFC 3339 (UTC).
    pub created: String,
    /// This boot of this machine and its process-id namespace ([`machine_id`]): when a holder
    /// recorded the same as ours, its pid can be checked, so a killed holder's remote lock does
    /// not block the next run on the same machine.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub machine: String,
}

impl LockInfo {
    /// Describes this process as a lock holder.
    pub fn for_this_process(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            host: hostname(),
            pid: std::process::id(),
            command: command_line_for_display(std::env::args()),
            operation: operation.to_string(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            machine: machine_id(),
        }
    }

    /// True only when the holder provably ran here (same host name, boot and pid namespace)
    /// and its process no longer exists. Anything uncertain counts as alive.
    pub fn holder_is_gone(&self) -> bool {
        let here = machine_id();
        !here.is_empty()
            && self.machine == here
            && self.host == hostname()
            && self.pid != 0
            && self.pid != std::process::id()
            && !process_exists(self.pid)
    }

    /// `<host> pid <pid> (`<command>`) since <time>`.
    pub fn holder(&self) -> String {
        format!(
            "{} pid {} (`{}`) since {}",
            self.host, self.pid, self.command, self.created
        )
    }
}

/// The message for a lock that another run holds.
pub fn locked_message(holder: Option<&LockInfo>, waited: Duration) -> String {
    let who = match holder {
        Some(h) => format!("state is locked by {}", h.holder()),
        None => "state is locked by another process (it has not recorded its name yet)".into(),
    };
    let waited = if waited.is_zero() {
        String::new()
    } else {
        format!(" (waited {})", humantime::format_duration(round_ms(waited)))
    };
    format!("{who}{waited}; retry with --lock-timeout or wait")
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().min(u64::MAX as u128) as u64)
}

/// The command line as shown in lock messages: program base name, arguments quoted when they
/// hold spaces, and every `--var NAME=VALUE` value replaced by `***`.
pub fn command_line_for_display(args: impl IntoIterator<Item = String>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut mask_next = false;
    for (i, arg) in args.into_iter().enumerate() {
        let shown = if i == 0 {
            Path::new(&arg)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(arg)
        } else if mask_next {
            mask_next = false;
            mask_assignment(&arg)
        } else if arg == "--var" {
            mask_next = true;
            arg
        } else if let Some(rest) = arg.strip_prefix("--var=") {
            format!("--var={}", mask_assignment(rest))
        } else {
            arg
        };
        out.push(quote(&shown));
    }
    out.join(" ")
}

fn mask_assignment(arg: &str) -> String {
    match arg.split_once('=') {
        Some((name, _)) => format!("{name}=***"),
        None => "***".into(),
    }
}

fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%*".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `<boot id>/<pid namespace>`: pids are comparable only between processes that share both
/// (containers on one kernel share the boot id but not the namespace). Empty when unknown.
pub fn machine_id() -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let ns = std::fs::read_link("/proc/self/ns/pid")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let boot = boot.trim();
    if boot.is_empty() || ns.is_empty() {
        String::new()
    } else {
        format!("{boot}/{ns}")
    }
}

/// Whether a process with this pid exists (one we may not signal still exists).
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is delivered.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// This machine's host name (`unknown-host` when the OS will not say).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `len` bytes; gethostname writes at most that many.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast::<libc::c_char>(), buf.len()) };
    if rc != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    if name.is_empty() {
        "unknown-host".into()
    } else {
        name
    }
}

/// How often a waiting run retries.
const POLL: Duration = Duration::from_millis(150);

/// A held `flock` on a lock file; released (and the holder info cleared) on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Takes the lock on `path` (created 0600 if missing), waiting up to `timeout`
    /// (`Duration::ZERO`: one attempt), then records `info` in the file.
    pub fn acquire(path: &Path, info: &LockInfo, timeout: Duration) -> Result<FileLock, String> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
        let start = Instant::now();
        let deadline = start.checked_add(timeout);
        loop {
            match try_flock(&file) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
            let now = Instant::now();
            let remaining = deadline.map(|d| d.saturating_duration_since(now));
            if remaining.is_some_and(|r| r.is_zero()) {
                let holder = read_holder(&mut file);
                return Err(locked_message(holder.as_ref(), now - start));
            }
            std::thread::sleep(remaining.map_or(POLL, |r| r.min(POLL)));
        }
        let lock = FileLock {
            file,
            path: path.to_path_buf(),
        };
        lock.record(info)?;
        Ok(lock)
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&self, info: &LockInfo) -> Result<(), String> {
        let text = serde_json::to_string_pretty(info)
            .map_err(|e| format!("cannot describe the lock holder: {e}"))?;
        let mut f = &self.file;
        f.set_len(0)
            .and_then(|_| f.seek(SeekFrom::Start(0)))
            .and_then(|_| f.write_all(text.as_bytes()))
            .and_then(|_| f.write_all(b"\n"))
            .map_err(|e| format!("cannot write the lock file {}: {e}", self.path.display()))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Clear the holder first so that no one reads a stale name; errors here cannot be
        // reported and do not matter (the flock itself goes with the descriptor).
        let _ = self.file.set_len(0);
        // SAFETY: the descriptor is open for the lifetime of `self.file`.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// One non-blocking attempt: `Ok(false)` when someone else holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    loop {
        // SAFETY: the descriptor is open for the lifetime of `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(code) if code == libc::EWOULDBLOCK || code == libc::EAGAIN => return Ok(false),
            _ => return Err(err),
        }
    }
}

/// The holder recorded in the lock file, if it is there and readable.
fn read_holder(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(64 * 1024).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line_masks_var_values() {
        let shown = command_line_for_display(args(&[
            "/usr/local/bin/mlstack",
            "apply",
            "stack.yaml",
            "--var",
            "db_password=hunter2",
            "--var=token=abc",
            "--target",
            "a b",
        ]));
        assert_eq!(
            shown,
            "mlstack apply stack.yaml --var db_password=*** --var=token=*** --target 'a b'"
        );
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn message_names_the_holder() {
        let info = LockInfo {
            id: "x".into(),
            host: "box".into(),
            pid: 42,
            command: "mlstack apply s.yaml".into(),
            operation: "apply".into(),
            created: "2024-01-01T00:00:00Z".into(),
            machine: String::new(),
        };
        assert_eq!(
            locked_message(Some(&info), Duration::ZERO),
            "state is locked by box pid 42 (`mlstack apply s.yaml`) since 2024-01-01T00:00:00Z; \
             retry with --lock-timeout or wait"
        );
        assert!(locked_message(None, Duration::from_secs(2)).contains("(waited 2s)"));
    }

    #[test]
    fn lock_descriptor_is_not_inherited_by_child_processes() {
        // A spawned tool (or a detached sandbox) must not keep the lock alive after we die.
        let dir = tempfile::tempdir().unwrap();
        let info = LockInfo::for_this_process("test");
        let lock = FileLock::acquire(&dir.path().join("l"), &info, Duration::ZERO).unwrap();
        // SAFETY: the descriptor is open for the lifetime of `lock`.
        let flags = unsafe { libc::fcntl(lock.file.as_raw_fd(), libc::F_GETFD) };
        assert!(flags >= 0 && flags & libc::FD_CLOEXEC != 0);
    }

    #[test]
    fn a_dead_holder_here_is_gone_and_anything_uncertain_is_not() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = LockInfo {
            pid,
            ..LockInfo::for_this_process("apply")
        };
        assert!(dead.holder_is_gone() || machine_id().is_empty());
        assert!(!LockInfo::for_this_process("apply").holder_is_gone());
        let elsewhere = LockInfo {
            host: "another-host".into(),
            ..dead.clone()
        };
        assert!(!elsewhere.holder_is_gone());
        let unknown = LockInfo {
            machine: String::new(),
            ..dead
        };
        assert!(!unknown.holder_is_gone());
    }

    #[test]
    fn hostname_is_not_empty() {
        assert!(!hostname().is_empty());
    }
}
