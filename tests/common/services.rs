//! Real programs the end-to-end tests run on loopback (Prometheus, Alertmanager, the model API,
//! an SMTP sink): each in its own process group with its output in a log file, the whole group
//! killed on drop; plain HTTP/1.0 helpers (no chunking) to talk to them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started program; its process group is terminated (then killed) on drop.
pub struct Proc {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `cmd` in a new process group, stdout and stderr to `<dir>/<name>.log`.
    pub fn spawn(name: &str, dir: &Path, cmd: &mut Command) -> Proc {
        use std::os::unix::process::CommandExt;
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            log,
        }
    }

    /// The last lines of the program's log, for failure messages.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "--- {} ({})\n{}",
            self.name,
            self.log.display(),
            lines[from..].join("\n")
        )
    }

    /// Fails the test (with the log) if the program has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.tail());
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pgid = -(self.child.id() as i32);
        unsafe {
            libc::kill(pgid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe {
            libc::kill(pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound, then released for the program to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// One HTTP/1.0 exchange on loopback: `(status, body)`, or `None` when nothing answers.
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, rest.to_string()))
}

/// Waits (generous guard, not a timing assertion) until `GET path` answers 200.
pub fn wait_ready(port: u16, path: &str, what: &mut Proc, guard: Duration) {
    let deadline = Instant::now() + guard;
    loop {
        if matches!(http(port, "GET", path, None), Some((200, _))) {
            return;
        }
        what.assert_running();
        assert!(
            Instant::now() < deadline,
            "{} not ready on {path} after {guard:?}:\n{}",
            what.name,
            what.tail()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_listening(port: u16, what: &mut Proc, guard: Duration) {
    let deadline = Instant::now() + guard;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        what.assert_running();
        assert!(
            Instant::now() < deadline,
            "{} not listening after {guard:?}:\n{}",
            what.name,
            what.tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `s` percent-encoded for a query string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
