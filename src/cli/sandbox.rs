//! `mlstack sandbox up|down|status|kubeconfig`: the local emulators of Yandex Cloud and of
//! Kubernetes (a standalone API, plus one per Managed Kubernetes cluster of the cloud).

use super::{CliError, CliResult, SandboxCommand, SandboxUpArgs, Ui};
use crate::sandbox;
use std::process::ExitCode;

fn here() -> Result<std::path::PathBuf, CliError> {
    std::env::current_dir()
        .map(|d| sandbox::dir(&d))
        .map_err(|e| CliError::Message(format!("cannot read the working directory: {e}")))
}

fn config(
    a: &SandboxUpArgs,
) -> Result<(mlstack_sandbox::SandboxConfig, mlstack_sandbox::CloudConfig), CliError> {
    for (name, v) in [("--error-rate", a.error_rate), ("--drop-rate", a.drop_rate)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(CliError::Message(format!(
                "{name} must be between 0.0 and 1.0"
            )));
        }
    }
    let faults = mlstack_sandbox::Faults {
        error_rate: a.error_rate,
        error_codes: a.error_codes.clone(),
        drop_rate: a.drop_rate,
    };
    Ok((
        mlstack_sandbox::SandboxConfig {
            ready_delay: a.ready_delay,
            latency: a.latency,
            faults: faults.clone(),
            ..Default::default()
        },
        mlstack_sandbox::CloudConfig {
            operation_delay: a.operation_delay,
            ready_delay: a.ready_delay,
            latency: a.latency,
            faults,
            ..Default::default()
        },
    ))
}

/// The `serve` arguments that reproduce `a`.
fn serve_args(a: &SandboxUpArgs) -> Vec<String> {
    let d = |d: std::time::Duration| format!("{}ms", d.as_millis());
    vec![
        format!("--ready-delay={}", d(a.ready_delay)),
        format!("--operation-delay={}", d(a.operation_delay)),
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
            let (kube, cloud) = config(a)?;
            sandbox::serve(&dir, kube, cloud).map_err(CliError::Message)?;
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
            if let Some(c) = &r.cloud {
                println!("  cloud API:      {} (Yandex Cloud REST paths)", c.endpoint);
            }
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
        SandboxCommand::Status { json } => status(&dir, *json)?,
        SandboxCommand::Kubeconfig {
            cluster,
            client_cert,
        } => {
            let r = sandbox::running(&dir).ok_or_else(|| {
                CliError::Message(
                    "mlstack sandbox is not running; start it with `mlstack sandbox up`".into(),
                )
            })?;
            if *client_cert {
                let kc = r.kubeconfig_with_client_cert().ok_or_else(|| {
                    CliError::Message("this sandbox has no client certificate (an older mlstack started it): run `mlstack sandbox down` and up again".into())
                })?;
                print!("{kc}");
            } else {
                print!("{}", kubeconfig(&r, cluster.as_deref())?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Requests served and faults injected per API: `cloud`, `kubernetes` (standalone) and
/// `clusters` by id (deleted clusters included, `running: false`).
fn apis(cloud: &mlstack_sandbox::CloudStatus) -> serde_json::Value {
    let mut v = serde_json::json!({});
    for (name, stats) in &cloud.apis {
        v[name] = serde_json::json!(stats);
    }
    v["clusters"] = serde_json::json!(cloud.cluster_apis);
    v
}

/// One line per API for the human status: requests, delayed, errors by code, dropped.
fn api_line(name: &str, s: &mlstack_sandbox::ApiStats) -> String {
    let errors: Vec<String> = s.errors.iter().map(|(c, n)| format!("{c}×{n}")).collect();
    format!(
        "  {name}: {} requests, {} delayed, {} injected errors{}, {} dropped",
        s.requests,
        s.latency_delayed,
        s.error_total(),
        if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join(", "))
        },
        s.dropped
    )
}

/// `sandbox status`: endpoints, clusters, the cloud's resource counts, the configured faults
/// and what each API injected (no secrets).
fn status(dir: &std::path::Path, json: bool) -> Result<(), CliError> {
    let r = sandbox::running(dir);
    let cloud = match &r {
        Some(r) => Some(r.cloud_status().map_err(CliError::Message)?),
        None => None,
    };
    let clusters: Vec<serde_json::Value> = cloud
        .iter()
        .flat_map(|c| &c.clusters)
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "name": c.name,
                "folder_id": c.folder_id,
                "status": c.status,
                "endpoint": c.endpoint,
                "created_at": c.created_at,
            })
        })
        .collect();
    let counts = cloud.as_ref().map(|c| c.counts.clone()).unwrap_or_default();
    if json {
        let mut v = serde_json::json!({
            "running": r.is_some(),
            "emulator": true,
            "clusters": clusters,
            "cloud_resources": counts,
        });
        if let Some(r) = &r {
            v["pid"] = r.pid.into();
            v["started"] = r.started.clone().into();
            v["kubernetes"] = serde_json::json!({"endpoint": r.kubernetes.endpoint});
            if let Some(c) = &r.cloud {
                v["cloud"] = serde_json::json!({"endpoint": c.endpoint});
            }
            if let Some(f) = &r.faults {
                v["faults"] = serde_json::json!(f);
            }
        }
        if let Some(c) = &cloud {
            v["apis"] = apis(c);
        }
        println!("{v}");
        return Ok(());
    }
    let Some(r) = r else {
        println!("mlstack sandbox is not running; start it with `mlstack sandbox up`.");
        return Ok(());
    };
    println!(
        "mlstack sandbox is running (pid {}, since {}): an emulator; nothing really runs in it.",
        r.pid, r.started
    );
    if let Some(c) = &r.cloud {
        println!("  cloud API:      {}", c.endpoint);
    }
    println!("  kubernetes API: {} (standalone)", r.kubernetes.endpoint);
    for c in cloud.iter().flat_map(|c| &c.clusters) {
        println!(
            "  cluster {} ({}): {} {}",
            c.name,
            c.id,
            c.status,
            c.endpoint.as_deref().unwrap_or("")
        );
    }
    let held: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    if !held.is_empty() {
        println!("  cloud resources: {}", held.join(", "));
    }
    if let Some(f) = &r.faults {
        println!(
            "  faults: latency {} ms, error rate {} (codes {}), drop rate {}",
            f.latency_ms,
            f.error_rate,
            f.error_codes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(","),
            f.drop_rate
        );
    }
    if let Some(c) = &cloud {
        for (name, s) in &c.apis {
            println!("{}", api_line(name, s));
        }
        for (id, c) in &c.cluster_apis {
            let name = format!(
                "cluster {} ({id}{})",
                c.name,
                if c.running { "" } else { ", gone" }
            );
            println!("{}", api_line(&name, &c.stats));
        }
    }
    Ok(())
}

/// The kubeconfig of a cluster of the sandbox cloud (by name or id; default: the most recently
/// created one), or of the standalone API when the cloud holds no cluster.
fn kubeconfig(r: &sandbox::Running, cluster: Option<&str>) -> Result<String, CliError> {
    let status = r.cloud_status().map_err(CliError::Message)?;
    let chosen = match cluster {
        Some(name) => Some(
            status
                .clusters
                .iter()
                .find(|c| c.name == name || c.id == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        status.clusters.iter().map(|c| c.name.as_str()).collect();
                    CliError::Message(if names.is_empty() {
                        format!("the sandbox cloud holds no cluster `{name}` (it holds none); omit --cluster for the standalone API")
                    } else {
                        format!(
                            "the sandbox cloud holds no cluster `{name}`; it holds: {}",
                            names.join(", ")
                        )
                    })
                })?,
        ),
        None => status.clusters.iter().max_by(|a, b| a.created_at.cmp(&b.created_at)),
    };
    let Some(c) = chosen else {
        return Ok(r.kubeconfig());
    };
    match (&c.endpoint, &c.ca_pem) {
        (Some(endpoint), Some(ca)) => Ok(mlstack_sandbox::kubeconfig_for(endpoint, ca, &c.token)),
        _ => Err(CliError::Message(format!(
            "cluster `{}` is {}: its Kubernetes API is not up yet",
            c.name, c.status
        ))),
    }
}
