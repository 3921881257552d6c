//! `mlstack sandbox up|down|status|kubeconfig`: the local emulator of the cloud's Kubernetes API.

use super::{CliError, CliResult, SandboxCommand, SandboxUpArgs, Ui};
use crate::sandbox;
use std::process::ExitCode;

fn here() -> Result<std::path::PathBuf, CliError> {
    std::env::current_dir()
        .map(|d| sandbox::dir(&d))
        .map_err(|e| CliError::Message(format!("cannot read the working directory: {e}")))
}

fn config(a: &SandboxUpArgs) -> Result<mlstack_sandbox::SandboxConfig, CliError> {
    for (name, v) in [("--error-rate", a.error_rate), ("--drop-rate", a.drop_rate)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(CliError::Message(format!(
                "{name} must be between 0.0 and 1.0"
            )));
        }
    }
    Ok(mlstack_sandbox::SandboxConfig {
        ready_delay: a.ready_delay,
        latency: a.latency,
        faults: mlstack_sandbox::Faults {
            error_rate: a.error_rate,
            error_codes: a.error_codes.clone(),
            drop_rate: a.drop_rate,
        },
        ..Default::default()
    })
}

/// The `serve` arguments that reproduce `a`.
fn serve_args(a: &SandboxUpArgs) -> Vec<String> {
    let d = |d: std::time::Duration| format!("{}ms", d.as_millis());
    vec![
        format!("--ready-delay={}", d(a.ready_delay)),
        format!("--latency={}", d(a.latency)),
        format!("--error-rate={}", a.error_rate),
        format!(
            "--error-codes={}",
            a.error_codes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        format!("--drop-rate={}", a.drop_rate),
    ]
}

pub fn run(cmd: &SandboxCommand, _ui: Ui) -> CliResult {
    let dir = here()?;
    match cmd {
        SandboxCommand::Serve(a) => {
            sandbox::serve(&dir, config(a)?).map_err(CliError::Message)?;
        }
        SandboxCommand::Up(a) => {
            config(a)?;
            let (r, started) =
                sandbox::start_detached(&dir, &serve_args(a)).map_err(CliError::Message)?;
            println!(
                "mlstack sandbox {} (pid {}): an emulator on loopback; nothing really runs in it.",
                if started {
                    "started"
                } else {
                    "is already running"
                },
                r.pid
            );
            println!("  kubernetes API: {}", r.kubernetes.endpoint);
            println!("  data:           {}", dir.display());
            println!("  kubeconfig:     mlstack sandbox kubeconfig > sandbox.kubeconfig");
        }
        SandboxCommand::Down => {
            if sandbox::stop(&dir).map_err(CliError::Message)? {
                println!("mlstack sandbox stopped.");
            } else {
                println!("mlstack sandbox is not running.");
            }
        }
        SandboxCommand::Status { json } => {
            let r = sandbox::running(&dir);
            if *json {
                let v = match &r {
                    Some(r) => serde_json::json!({
                        "running": true,
                        "pid": r.pid,
                        "started": r.started,
                        "emulator": true,
                        "kubernetes": {"endpoint": r.kubernetes.endpoint},
                        "clusters": [],
                        "cloud_resources": {},
                    }),
                    None => {
                        serde_json::json!({"running": false, "emulator": true, "clusters": [], "cloud_resources": {}})
                    }
                };
                println!("{v}");
            } else {
                match r {
                    Some(r) => println!(
                        "mlstack sandbox is running (pid {}, since {}): an emulator.\n  kubernetes API: {}",
                        r.pid, r.started, r.kubernetes.endpoint
                    ),
                    None => println!("mlstack sandbox is not running; start it with `mlstack sandbox up`."),
                }
            }
        }
        SandboxCommand::Kubeconfig { cluster } => {
            if let Some(c) = cluster {
                return Err(CliError::Message(format!(
                    "the sandbox cloud holds no cluster `{c}` (cloud clusters come with the Yandex Cloud emulator); omit --cluster for the standalone API"
                )));
            }
            let r = sandbox::running(&dir).ok_or_else(|| {
                CliError::Message(
                    "mlstack sandbox is not running; start it with `mlstack sandbox up`".into(),
                )
            })?;
            print!("{}", r.kubeconfig());
        }
    }
    Ok(ExitCode::SUCCESS)
}
