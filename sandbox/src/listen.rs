//! The loopback listener of an emulator: an explicit port, else the port it had last time
//! (recorded in its data directory, so endpoints others saved stay valid), else any free one.

use std::path::Path;
use tokio::net::TcpListener;

const PORT_FILE: &str = "port";

/// Binds 127.0.0.1 and records the port under `dir` (when given).
pub async fn listen(port: u16, dir: Option<&Path>) -> Result<TcpListener, String> {
    let previous = dir
        .filter(|_| port == 0)
        .and_then(|d| std::fs::read_to_string(d.join(PORT_FILE)).ok())
        .and_then(|t| t.trim().parse::<u16>().ok());
    let listener = match previous {
        Some(p) => match TcpListener::bind(("127.0.0.1", p)).await {
            Ok(l) => l,
            Err(_) => bind(0).await?,
        },
        None => bind(port).await?,
    };
    if let (Some(dir), Ok(addr)) = (dir, listener.local_addr()) {
        crate::files::write_atomic(&dir.join(PORT_FILE), addr.port().to_string().as_bytes())?;
    }
    Ok(listener)
}

async fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on loopback port {port}: {e}"))
}
