//! Canary and blue-green rollouts of the model-serving module, run by `kubernetes_rollout`
//! during apply, against real programs: the sandbox Kubernetes API, a real `mlflow server`
//! (versions registered and aliases moved with MLflow's own client) and a real `prometheus`
//! scraping a fixture exporter whose error rate and latency the test controls. Intervals are
//! short (1–2 s) so that a whole canary takes seconds; nothing here asserts on timing.

mod common;

use common::mlflow::Mlflow;
use common::prometheus::{Mix, Prometheus};
use common::{tool, SandboxDown, Work};
use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::{Duration, Instant};

const APP: &str = "fraud-detection";
const ROLLOUT: &str = "module.api.rollout";

fn stack(mlflow: &str, rollout: &str) -> String {
    format!(
        r#"stack: {{ name: rollout }}
data:
  champion:
    type: mlflow_model_version
    properties: {{ tracking_uri: "{mlflow}", name: fraud, alias: champion }}
modules:
  api:
    source: model-serving
    inputs:
      name: {APP}
      image: cr.example.org/fd:1
      host: fd.example.org
      min_replicas: 1
      max_replicas: 2
      model: ${{data.champion}}
      rollout: {rollout}
"#
    )
}

/// The sandbox, MLflow with versions 1 and 2 (champion on 1), and the first version applied.
struct Rig {
    w: Work,
    m: Mlflow,
    v1: String,
    v2: String,
    kubeconfig: std::path::PathBuf,
}

impl Rig {
    fn new(rollout: &str, ready_delay: &str) -> Rig {
        let m = Mlflow::start();
        let v1 = m.register("fraud", &[]);
        let v2 = m.register("fraud", &[]);
        m.alias("fraud", "champion", &v1);
        let w = Work::with_modules();
        w.write("stack.yaml", &stack(&m.uri, rollout));
        let up = w.run(&["sandbox", "up", "--ready-delay", ready_delay]);
        assert_eq!(up.code, 0, "{up:?}");
        let kc = w.run(&["sandbox", "kubeconfig"]);
        assert_eq!(kc.code, 0, "{kc:?}");
        let kubeconfig = w.write("kc", &kc.stdout);
        let r = w.run(&["apply", "stack.yaml", "--sandbox", "--auto-approve"]);
        assert_eq!(r.code, 0, "the first version deploys directly: {r:?}");
        Rig {
            w,
            m,
            v1,
            v2,
            kubeconfig,
        }
    }

    fn kubectl(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(tool("kubectl"))
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .args(["-o", "json"])
            .output()
            .expect("kubectl");
        assert!(out.status.success(), "kubectl {args:?}: {out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn weight(&self) -> String {
        let ing = self.kubectl(&["get", "ingress", "-n", "ml", &format!("{APP}-candidate")]);
        ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn deployments(&self) -> Vec<String> {
        let list = self.kubectl(&["get", "deployments", "-n", "ml"]);
        let mut names: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    /// MODEL_VERSION of the stable Deployment's container.
    fn stable_version(&self) -> String {
        let d = self.kubectl(&["get", "deployment", "-n", "ml", APP]);
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .clone();
        env.iter()
            .find(|e| e["name"] == "MODEL_VERSION")
            .map(|e| e["value"].as_str().unwrap().to_string())
            .unwrap()
    }

    /// The rollout's recorded status, read as the next run reads state (`state pull`: the
    /// snapshot with the journal of a killed apply replayed).
    fn status(&self) -> serde_json::Value {
        let pulled = self.w.run(&["state", "pull", "stack.yaml"]);
        assert_eq!(pulled.code, 0, "{pulled:?}");
        let st: serde_json::Value = serde_json::from_str(&pulled.stdout).expect("state JSON");
        st["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == ROLLOUT)
            .map(|r| r["attributes"]["status"].clone())
            .unwrap_or_default()
    }

    fn plan_code(&self) -> common::Run {
        self.w
            .run(&["plan", "stack.yaml", "--sandbox", "--detailed-exitcode"])
    }

    fn apply(&self, extra: &[&str]) -> common::Run {
        let mut args = vec!["apply", "stack.yaml", "--sandbox", "--auto-approve"];
        args.extend(extra);
        let child = self.w.command(&args).spawn().unwrap();
        common::wait_with_guard(child, Duration::from_secs(300))
    }
}

fn canary(prom: &Prometheus, steps: &str, interval: &str, failure_limit: u32) -> String {
    format!(
        "{{ strategy: canary, steps: {steps}, interval: {interval}, failure_limit: {failure_limit}, prometheus_url: \"{}\", analysis_window: 20s }}",
        prom.url
    )
}

/// The module's default error-rate query has a value: Prometheus holds enough samples.
fn wait_for_samples(prom: &Prometheus) {
    prom.wait_for(&format!(
        "sum(rate(http_requests_total{{job=\"{APP}\", namespace=\"ml\"}}[20s]))"
    ));
}

#[test]
fn a_healthy_canary_is_promoted_step_by_step_and_the_next_plan_is_quiet() {
    let prom = Prometheus::start(
        APP,
        "ml",
        Mix {
            errors: 0.01,
            slow: 0.0,
        },
    );
    let rig = Rig::new(&canary(&prom, "[20, 50, 100]", "1s", 0), "50ms");
    let _down = SandboxDown(&rig.w);
    wait_for_samples(&prom);
    assert_eq!(rig.plan_code().code, 0, "quiet after the first version");
    assert_eq!(rig.stable_version(), rig.v1);
    assert_eq!(rig.weight(), "0");

    rig.m.alias("fraud", "champion", &rig.v2);
    let p = rig.plan_code();
    assert_eq!(p.code, 2, "{p:?}");
    assert!(
        p.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "only the rollout changes: {p:?}"
    );
    assert!(p.stdout.contains(ROLLOUT), "{p:?}");
    assert!(
        p.stdout.contains(&format!(
            "canary {} -> {}: steps 20% -> 50% -> 100% every 1s",
            rig.v1, rig.v2
        )),
        "{p:?}"
    );

    let r = rig.apply(&["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let notes: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["type"] == "apply_note" && e["address"] == ROLLOUT)
        .collect();
    let weights: Vec<u64> = notes
        .iter()
        .filter(|n| n["detail"]["phase"] == "step")
        .map(|n| n["detail"]["weight"].as_u64().unwrap())
        .collect();
    assert_eq!(weights, vec![20, 50, 100], "{r:?}");
    let analyses: Vec<&serde_json::Value> = notes
        .iter()
        .filter(|n| n["detail"]["phase"] == "analysis")
        .collect();
    assert_eq!(analyses.len(), 3, "one passing analysis per step: {r:?}");
    for a in &analyses {
        let results = a["detail"]["results"].as_array().unwrap();
        let names: Vec<&str> = results
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["error_rate", "p95_latency"]);
        let err = results[0]["value"].as_f64().unwrap();
        assert!(
            (0.005..0.02).contains(&err),
            "the exporter's 1 % error rate: {a}"
        );
        assert_eq!(results[0]["threshold"], "max 0.05");
        assert_eq!(results[1]["threshold"], "max 2");
        assert!(results[1]["value"].as_f64().unwrap() < 0.2, "{a}");
    }
    assert!(
        notes.iter().any(|n| n["detail"]["phase"] == "promoted"),
        "{r:?}"
    );

    assert_eq!(
        rig.stable_version(),
        rig.v2,
        "the stable role serves the new version"
    );
    assert_eq!(rig.weight(), "0", "all traffic on the stable role");
    assert_eq!(
        rig.deployments(),
        vec![APP.to_string()],
        "the candidate is gone"
    );
    assert_eq!(rig.status()["phase"], "healthy");
    assert_eq!(rig.status()["stable_version"], rig.v2.as_str());
    let p = rig.plan_code();
    assert_eq!(p.code, 0, "after a promotion the plan is quiet: {p:?}");
}

#[test]
fn a_bad_canary_is_rolled_back_tagged_failed_and_the_apply_fails_with_a_report() {
    // The candidate answers 30 % errors: the first step's analysis fails twice (limit 1).
    let prom = Prometheus::start(
        APP,
        "ml",
        Mix {
            errors: 0.3,
            slow: 0.5,
        },
    );
    let rig = Rig::new(&canary(&prom, "[10, 50, 100]", "1s", 1), "50ms");
    let _down = SandboxDown(&rig.w);
    wait_for_samples(&prom);
    rig.m.alias("fraud", "champion", &rig.v2);
    let r = rig.apply(&[]);
    assert_ne!(r.code, 0, "a rolled back rollout fails the apply: {r:?}");
    let out = r.all();
    assert!(out.contains(&format!("rollout of version {} rolled back: analysis failed 2 time(s) (failure_limit 1) at step 1/3 (weight 10%)", rig.v2)), "{out}");
    assert!(
        out.contains(&format!("all traffic is back on version {}", rig.v1)),
        "{out}"
    );
    assert!(
        out.contains("error_rate: `sum by (namespace) (rate(http_requests_total{"),
        "the report names the query: {out}"
    );
    assert!(
        out.contains("(max 0.05) FAILED"),
        "and the threshold: {out}"
    );
    assert!(out.contains("p95_latency"), "{out}");
    assert!(
        out.contains(&format!(
            "MLflow: fraud version {} tagged rollout=failed",
            rig.v2
        )),
        "{out}"
    );
    assert_eq!(out.matches("step 1/3: weight 10%").count(), 1, "{out}");
    assert!(!out.contains("step 2/3"), "{out}");

    assert_eq!(
        rig.m.tags("fraud", &rig.v2)["rollout"],
        "failed",
        "tag read back from MLflow"
    );
    assert!(rig.m.tags("fraud", &rig.v1).get("rollout").is_none());
    assert_eq!(rig.weight(), "0");
    assert_eq!(
        rig.deployments(),
        vec![APP.to_string()],
        "the candidate is removed"
    );
    assert_eq!(rig.stable_version(), rig.v1);
    assert_eq!(rig.status()["phase"], "failed");
    let p = rig.plan_code();
    assert_eq!(
        p.code, 0,
        "the rolled back version stays rolled back until the model changes: {p:?}"
    );
}

#[test]
fn an_interrupted_rollout_is_resumed_without_duplicates_and_a_concurrent_apply_is_refused() {
    let prom = Prometheus::start(
        APP,
        "ml",
        Mix {
            errors: 0.0,
            slow: 0.0,
        },
    );
    let rig = Rig::new(&canary(&prom, "[10, 50, 100]", "2s", 0), "50ms");
    let _down = SandboxDown(&rig.w);
    wait_for_samples(&prom);
    rig.m.alias("fraud", "champion", &rig.v2);

    let mut child = rig
        .w
        .command(&["apply", "stack.yaml", "--sandbox", "--auto-approve"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    loop {
        assert!(Instant::now() < deadline, "no step 2 in 120 s: {seen}");
        let Some(Ok(line)) = lines.next() else {
            panic!("apply ended before step 2: {seen}");
        };
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("step 2/3: weight 50%") {
            break;
        }
    }
    // While it runs, a second apply is refused by the state lock.
    let second = rig.w.run(&[
        "apply",
        "stack.yaml",
        "--sandbox",
        "--auto-approve",
        "--lock-timeout",
        "0s",
    ]);
    assert_ne!(second.code, 0, "{second:?}");
    assert!(second.all().contains("state is locked by"), "{second:?}");

    child.kill().unwrap(); // SIGKILL mid-step
    child.wait().unwrap();
    let st = rig.status();
    assert_eq!(
        st["phase"], "progressing",
        "the phase was checkpointed: {st}"
    );
    assert_eq!(st["step"], 1);
    assert_eq!(st["weight"], 50);
    assert_eq!(rig.weight(), "50", "the cluster is where state says");
    assert_eq!(
        rig.deployments(),
        vec![APP.to_string(), format!("{APP}-candidate")]
    );

    let p = rig.plan_code();
    assert_eq!(p.code, 2, "{p:?}");
    assert!(
        p.stdout
            .contains("an interrupted rollout (phase progressing, step 2) is resumed"),
        "{p:?}"
    );
    let r = rig.apply(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "resuming the interrupted rollout of version {} at step 2 (weight 50%)",
            rig.v2
        )),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("step 1/3"),
        "steps already passed are not repeated: {r:?}"
    );
    assert!(r.stdout.contains("step 3/3: weight 100%"), "{r:?}");
    assert_eq!(
        rig.deployments(),
        vec![APP.to_string()],
        "no duplicates, the candidate gone"
    );
    assert_eq!(rig.stable_version(), rig.v2);
    assert_eq!(rig.weight(), "0");
    assert_eq!(rig.plan_code().code, 0);
}

#[test]
fn blue_green_switches_only_once_the_new_side_is_ready() {
    // Pods take 3 s to become Ready: the switch must wait for them.
    let m_prom = Prometheus::start(
        APP,
        "ml",
        Mix {
            errors: 0.0,
            slow: 0.0,
        },
    );
    let rollout = format!(
        "{{ strategy: blue_green, interval: 1s, prometheus_url: \"{}\", analysis_window: 20s }}",
        m_prom.url
    );
    let rig = Rig::new(&rollout, "3s");
    let _down = SandboxDown(&rig.w);
    wait_for_samples(&m_prom);
    rig.m.alias("fraud", "champion", &rig.v2);
    let mut child = rig
        .w
        .command(&["apply", "stack.yaml", "--sandbox", "--auto-approve"])
        .spawn()
        .unwrap();
    // Sample the cluster while the apply runs: whenever the candidate has traffic, its
    // Deployment has an available replica.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut switched = false;
    let mut waited_unready = false;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "apply did not finish in 120 s");
        let names = rig.deployments();
        if names.contains(&format!("{APP}-candidate")) {
            let d = rig.kubectl(&["get", "deployment", "-n", "ml", &format!("{APP}-candidate")]);
            let available = d["status"]["availableReplicas"].as_u64().unwrap_or(0);
            let w = rig.weight();
            if available == 0 {
                waited_unready = true;
                assert_eq!(w, "0", "no traffic to a side that is not ready");
            }
            if w == "100" {
                switched = true;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = common::wait_with_guard(child, Duration::from_secs(10));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        waited_unready,
        "the sampling saw the new side before it was ready"
    );
    assert!(switched, "the sampling saw all traffic on the new side");
    assert!(out.stdout.contains("step 1/1: weight 100%"), "{out:?}");
    assert_eq!(rig.stable_version(), rig.v2);
    assert_eq!(
        rig.deployments(),
        vec![APP.to_string()],
        "the old side retired"
    );
    assert_eq!(rig.weight(), "0");
    assert_eq!(rig.plan_code().code, 0);
}
