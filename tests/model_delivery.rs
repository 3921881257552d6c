//! Model delivery through the model-serving module: the served version comes from the MLflow
//! registry (`model: ${data.champion}`), an A/B split renders the exact weights with either
//! engine (`plain`: a Deployment, Service, HPA and Ingress per version, ingress-nginx canary
//! weight on the candidate; `seldon`: one SeldonDeployment whose predictors carry `traffic`),
//! bad splits are refused at the stack's line, and with a real `mlflow server` and the sandbox a
//! moved alias plans exactly the candidate's Deployment.

mod common;

use common::mlflow::Mlflow;
use common::{SandboxDown, Work};

fn stack(url: &str, extra_inputs: &str) -> String {
    format!(
        r#"stack: {{ name: delivery }}
variables:
  mlflow_url: {{ type: string, default: "{url}" }}
data:
  champion:
    type: mlflow_model_version
    properties: {{ tracking_uri: "${{var.mlflow_url}}", name: fraud, alias: champion }}
  challenger:
    type: mlflow_model_version
    properties: {{ tracking_uri: "${{var.mlflow_url}}", name: fraud, alias: challenger }}
modules:
  api:
    source: model-serving
    inputs:
      name: fraud-detection
      image: cr.example.org/fd:1
      host: fd.example.org
      min_replicas: 4
      max_replicas: 6
      model: ${{data.champion}}
{extra_inputs}"#
    )
}

const AB: &str = "      candidate: ${data.challenger}
      rollout: { strategy: ab, weights: { stable: 80, candidate: 20 } }
";

/// A diagnostic as one line: miette wraps long messages at the terminal width.
fn one_line(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text with every line's indentation removed, so checks read as plain key sequences.
fn flat(text: &str) -> String {
    text.lines().map(str::trim).collect::<Vec<_>>().join("\n")
}

fn rendered(w: &Work, file: &str) -> String {
    flat(&w.read(&format!("out/kubernetes/ml/{file}")))
}

#[test]
fn an_ab_split_renders_the_exact_weights_with_the_plain_engine() {
    let w = Work::with_modules();
    w.write("stack.yaml", &stack("http://127.0.0.1:9", AB));
    let r = w.run(&["render", "stack.yaml", "--out", "out"]);
    assert_eq!(r.code, 0, "{r:?}");
    let canary = rendered(&w, "Ingress-fraud-detection-candidate.yaml");
    for want in [
        "nginx.ingress.kubernetes.io/canary: \"true\"",
        "nginx.ingress.kubernetes.io/canary-weight: \"20\"",
        "nginx.ingress.kubernetes.io/canary-weight-total: \"100\"",
        "host: fd.example.org",
        "name: fraud-detection-candidate\nport:\nname: http",
    ] {
        assert!(canary.contains(want), "{want:?} not in\n{canary}");
    }
    let main = rendered(&w, "Ingress-fraud-detection.yaml");
    assert!(!main.contains("canary"), "{main}");
    assert!(
        main.contains("name: fraud-detection\nport:\nname: http"),
        "{main}"
    );
    // Each version: its own Deployment, HPA (same 4..6), PDB and Service, selected by track.
    for (dn, track) in [
        ("fraud-detection", "stable"),
        ("fraud-detection-candidate", "candidate"),
    ] {
        let dep = rendered(&w, &format!("Deployment-{dn}.yaml"));
        assert!(
            dep.contains(&format!("mlstack.dev/track: {track}")),
            "{dep}"
        );
        assert!(
            dep.contains(&format!("name: MODEL_TRACK\nvalue: {track}")),
            "{dep}"
        );
        // The version is read at plan time, never at render.
        assert!(
            dep.contains("name: MODEL_VERSION\nvalue: (known after apply)"),
            "{dep}"
        );
        assert!(!dep.contains("replicas:"), "the HPA owns replicas: {dep}");
        let hpa = rendered(&w, &format!("HorizontalPodAutoscaler-{dn}.yaml"));
        assert!(
            hpa.contains("maxReplicas: 6\n") && hpa.contains("minReplicas: 4"),
            "{hpa}"
        );
        assert!(
            hpa.contains(&format!("kind: Deployment\nname: {dn}")),
            "{hpa}"
        );
        let svc = rendered(&w, &format!("Service-{dn}.yaml"));
        assert!(
            svc.contains(&format!("mlstack.dev/track: {track}")),
            "{svc}"
        );
        assert!(w
            .path(&format!("out/kubernetes/ml/PodDisruptionBudget-{dn}.yaml"))
            .is_file());
    }
}

#[test]
fn an_ab_split_renders_the_exact_weights_with_the_seldon_engine() {
    let w = Work::with_modules();
    let extra = format!("      engine: seldon\n{AB}");
    w.write(
        "stack.yaml",
        &stack("http://127.0.0.1:9", &extra)
            .replace("candidate: 20", "candidate: 35")
            .replace("stable: 80", "stable: 65"),
    );
    let r = w.run(&["render", "stack.yaml", "--out", "out"]);
    assert_eq!(r.code, 0, "{r:?}");
    let sd = rendered(&w, "SeldonDeployment-fraud-detection.yaml");
    assert!(
        sd.contains("apiVersion: machinelearning.seldon.io/v1"),
        "{sd}"
    );
    let stable = sd.find("- name: stable").expect("stable predictor");
    let candidate = sd.find("- name: candidate").expect("candidate predictor");
    assert!(sd[stable..candidate].contains("traffic: 65"), "{sd}");
    assert!(sd[candidate..].contains("traffic: 35"), "{sd}");
    for part in [&sd[stable..candidate], &sd[candidate..]] {
        assert!(part.contains("implementation: MLFLOW_SERVER"), "{part}");
        assert!(part.contains("modelUri: (known after apply)"), "{part}");
        assert!(
            part.contains("maxReplicas: 6") && part.contains("minReplicas: 4"),
            "{part}"
        );
    }
    // Seldon makes the Deployments: none of ours.
    assert!(!w
        .path("out/kubernetes/ml/Deployment-fraud-detection.yaml")
        .exists());
    assert!(!w
        .path("out/kubernetes/ml/HorizontalPodAutoscaler-fraud-detection.yaml")
        .exists());
}

#[test]
fn splits_that_do_not_add_up_and_strategies_not_built_are_refused_at_the_stacks_line() {
    let w = Work::with_modules();
    let cases = [
        (
            AB.replace("candidate: 20", "candidate: 30"),
            "sum to 100, not 80 + 30",
        ),
        (
            AB.replace("candidate: 20", "candidate: -20")
                .replace("stable: 80", "stable: 120"),
            "non-negative",
        ),
        (
            "      rollout: { strategy: ab, weights: { stable: 80, candidate: 20 } }\n".to_string(),
            "set both `model` and `candidate`",
        ),
        (
            "      candidate: ${data.challenger}\n      rollout: { strategy: ab }\n".to_string(),
            "needs weights",
        ),
        (
            "      rollout: { strategy: canary, weights: { stable: 80, candidate: 20 } }\n"
                .to_string(),
            "steps the weights itself",
        ),
        (
            "      rollout: { strategy: shadow }\n".to_string(),
            "replace, ab, canary or blue_green",
        ),
        ("      engine: triton\n".to_string(), "plain or seldon"),
    ];
    for (extra, want) in cases {
        w.write("stack.yaml", &stack("http://127.0.0.1:9", &extra));
        let r = w.run(&["validate", "stack.yaml"]);
        assert_eq!(r.code, 1, "{extra}: {r:?}");
        assert!(
            one_line(&r.all()).contains(want),
            "{want:?} for {extra}: {r:?}"
        );
        assert!(r.all().contains("stack.yaml:"), "{r:?}");
    }
    // Seldon serves a registered model: it needs `model`.
    let no_model = stack("http://127.0.0.1:9", "      engine: seldon\n")
        .replace("      model: ${data.champion}\n", "");
    w.write("stack.yaml", &no_model);
    let r = w.run(&["validate", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.all().contains("engine seldon serves a registered model"),
        "{r:?}"
    );
}

#[test]
fn a_moved_alias_plans_exactly_the_candidates_deployment_in_the_sandbox() {
    let m = Mlflow::start();
    let v1 = m.register("fraud", &[]);
    let v2 = m.register("fraud", &[]);
    m.alias("fraud", "champion", &v1);
    m.alias("fraud", "challenger", &v2);
    let w = Work::with_modules();
    let _down = SandboxDown(&w);
    w.write("stack.yaml", &stack(&m.uri, AB));
    let up = w.run(&["sandbox", "up", "--ready-delay", "50ms"]);
    assert_eq!(up.code, 0, "{up:?}");
    let r = w.run(&["apply", "stack.yaml", "--sandbox", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["plan", "stack.yaml", "--sandbox", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "nothing moved: {r:?}");

    let v3 = m.register("fraud", &[]);
    m.alias("fraud", "challenger", &v3);
    let r = w.run(&["plan", "stack.yaml", "--sandbox", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "only the candidate's Deployment changes: {r:?}"
    );
    assert!(
        r.stdout
            .contains(r#"object["apps/v1/Deployment/ml/fraud-detection-candidate"]"#),
        "{r:?}"
    );
    assert!(r.stdout.contains(&format!("models:/fraud/{v3}")), "{r:?}");
    let r = w.run(&["apply", "stack.yaml", "--sandbox", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["plan", "stack.yaml", "--sandbox", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}
