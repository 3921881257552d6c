//! A moto S3 server (`moto_server`, PyPI `moto[server]`) on a free loopback port, stopped on
//! drop; for the tests of the s3 backend and of everything that keeps state there.

use super::tool;
use mlstack::provider_api::Value;
use mlstack::state::S3Backend;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts moto_server (a missing moto_server fails the test: scripts/check.sh installs it).
    pub fn start() -> Moto {
        let bin = tool("moto_server");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// A client on `bucket` (created) for looking at what the bucket holds.
    pub fn bucket(&self, bucket: &str) -> S3Backend {
        let mut cfg = BTreeMap::new();
        for (k, v) in [
            ("bucket", bucket),
            ("endpoint", &self.endpoint),
            ("region", "us-east-1"),
            ("access_key", "test"),
            ("secret_key", "test"),
        ] {
            cfg.insert(k.to_string(), Value::from(v));
        }
        let b = S3Backend::from_config(&cfg, "demo", Path::new("."), "stack.yaml").unwrap();
        b.client().create_bucket().unwrap();
        b
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
