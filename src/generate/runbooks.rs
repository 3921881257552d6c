//! The runbooks every alert's `runbook_url` points at: one Markdown file per alert name, with
//! what the alert means, the exact rule(s) this stack generated for it, and what to check and
//! do. Shipped beside the rules so the link never points at nothing.

use super::rules::{Alert, RuleFile};
use std::collections::BTreeMap;

/// Fixed guidance per alert: (meaning, impact, diagnosis steps, mitigation steps).
fn guidance(
    alert: &str,
) -> (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
) {
    match alert {
        "HighCPUUsage" => (
            "A replica of the model API has used more CPU than the threshold share of its CPU limit for 5 minutes.",
            "Requests on that replica queue up and get slower; if every replica is hot, the HPA should be adding replicas.",
            &["`kubectl -n NAMESPACE top pod` — is it one replica or all of them?", "Check the Replicas panel: is the HPA scaling? If it is at its maximum, ModelOverloadedAtMaxReplicas follows (and silences this alert).", "Check for a traffic change (Request rate panel) or a new model version (Model version panel)."],
            &["One hot replica: look for an uneven load balancer or a stuck request; delete the pod if it stays hot.", "All replicas hot and HPA below its maximum: wait for scale-up; check that metrics-server works (`kubectl get hpa`)."],
        ),
        "ModelOverloadedAtMaxReplicas" => (
            "The HPA runs the maximum number of replicas and at least one replica still uses more than the CPU threshold of its limit, for 5 minutes. The model cannot scale further.",
            "Latency and errors rise for real users; this pages the sysadmin.",
            &["Request rate panel: is traffic legitimate (a campaign, a batch client) or an attack/load test?", "Kafka lag panel: is a backlog being drained?", "`kubectl -n NAMESPACE describe hpa NAME` for events."],
            &["Raise `max_replicas` of the app in the stack (and node group capacity), then `mlstack apply`.", "Shed or rate-limit abusive traffic at the Ingress.", "Roll back a model version that got slower."],
        ),
        "ModelScaledToMax" => (
            "The HPA has run the maximum number of replicas for a minute.",
            "No headroom is left: one more traffic step makes the model overloaded. Informational.",
            &["Replicas panel: how long has it been at the maximum?", "CPU per replica panel: how close to the threshold are the replicas?"],
            &["Plan capacity: raise `max_replicas` in the stack if this happens daily."],
        ),
        "HighErrorRate" => (
            "More than the threshold share of the model API's requests were answered with a 5xx status over 5 minutes, for 5 minutes.",
            "Clients get errors; predictions are missing. Pages the sysadmin.",
            &["`kubectl -n NAMESPACE logs deploy/DEPLOYMENT --since=15m` for stack traces.", "Model version panel: did a new version roll out?", "Check dependencies the model calls (feature store, Kafka, MLflow)."],
            &["Roll back the model version or the image.", "Restart crashing pods only after saving their logs."],
        ),
        "HighResponseTime" => (
            "The 95th percentile of request latency has been above the threshold over 5 minutes, for 5 minutes.",
            "Slow predictions; clients may time out.",
            &["Latency panel: is p50 slow too (everything slow) or only p95/p99 (a slow tail)?", "CPU per replica panel: are replicas saturated?", "Memory panel: is a replica near its limit (GC, swapping)?"],
            &["If CPU-bound: scale (raise `min_replicas`/`max_replicas`).", "If one version is slower: roll back."],
        ),
        "ModelDown" => (
            "For 2 minutes the model's Deployment had no ready replica, or no scrape target of the app was up, or Prometheus had no target for the app at all.",
            "The model API is not serving. Pages the sysadmin.",
            &["`kubectl -n NAMESPACE get deploy,pods -l app.kubernetes.io/name=APP`", "`kubectl -n NAMESPACE describe pod POD` — image pull errors, failing readiness on `/health`, OOMKilled?", "Prometheus → Status → Targets: is the app's job there and up?"],
            &["Fix the cause above; `kubectl rollout undo` restores the previous ReplicaSet.", "If only scraping is broken (pods are fine), fix the Service/ServiceMonitor selector or NetworkPolicy."],
        ),
        "ModelInputDrift" => (
            "For 15 minutes, the population stability index (PSI) of an input feature over the model API's recent window of requests has been above the threshold, measured against the distribution of that feature in the served model's training data (`drift_reference.json` of its MLflow run).",
            "The model scores data unlike what it learnt from: its predictions may be wrong without any error or latency symptom.",
            &["Input drift panel: one feature or all? Sudden (a client or upstream change, a unit change such as cents vs euros) or gradual (the world changed)?", "Model version panel: did a new version roll out with a different training set? Each version is measured against its own reference.", "Compare the feature's recent values with the training data (the reference's bin edges are in the run's `drift_reference.json`)."],
            &["Upstream bug (wrong units, a missing field defaulted): fix the producer; the alert clears as the window refills.", "Real change in the data: retrain on recent data (the retraining DAG), register the version and roll it out as a canary gated on this alert's query.", "Never raise the threshold just to silence it; a known, accepted shift is a silence with an end date."],
        ),
        "HighKafkaQueueLength" => (
            "A consumer group is more than the threshold number of messages behind on a topic, summed over partitions (a partition without a committed offset counts 0), for 5 minutes.",
            "Events are processed late; fraud is detected late. Pages the sysadmin.",
            &["Kafka lag panel: growing (consumers too slow or down) or steady (stuck partition)?", "Are the consumer pods running and in the group (`kafka-consumer-groups.sh --describe --group GROUP`)?", "Is the producer rate unusual (a load test, an attack)?"],
            &["Scale the consumers (up to the partition count).", "Restart a stuck consumer; fix poison messages."],
        ),
        "Watchdog" => (
            "Always firing, on purpose: it proves that rules are evaluated and alerts reach Alertmanager and its receivers.",
            "None while it fires. Its absence at the watchdog receiver (a dead man's switch) means the alerting pipeline is broken.",
            &["If the dead man's switch reports it missing: are Prometheus and Alertmanager running? Can Prometheus reach Alertmanager?"],
            &["Never silence this alert; route it to a heartbeat service instead."],
        ),
        "PrometheusRuleEvaluationFailures" => (
            "Prometheus failed to evaluate rules of a group in the last 5 minutes, for 5 minutes.",
            "Alerts of that group may silently not fire. Pages the sysadmin.",
            &["Prometheus → Status → Rules shows the failing rule and its error.", "Prometheus logs: `kubectl -n monitoring logs statefulset/prometheus`."],
            &["Fix the query (often a many-to-many match after a label change) and re-render with `mlstack render`."],
        ),
        "PrometheusNotificationErrors" => (
            "Prometheus got errors sending alerts to an Alertmanager for 10 minutes.",
            "Alerts may not be delivered.",
            &["Is Alertmanager running and reachable from Prometheus (Service, NetworkPolicy)?", "Prometheus logs for the error."],
            &["Fix connectivity or restart Alertmanager."],
        ),
        "PrometheusNotConnectedToAlertmanagers" => (
            "Prometheus has discovered no Alertmanager for 10 minutes.",
            "No alert can be delivered at all.",
            &["Prometheus → Status → Runtime & Build Information lists Alertmanagers.", "Check the `alerting:` section of the Prometheus config and the Alertmanager Service endpoints."],
            &["Fix the Alertmanager discovery or the Service."],
        ),
        "PrometheusConfigReloadFailed" => (
            "Prometheus' last configuration reload failed; it keeps running the previous configuration.",
            "Changes (new rules, scrape targets) are not in effect.",
            &["Prometheus logs show the parse error.", "`promtool check config` and `promtool check rules` on the rendered files."],
            &["Fix the configuration in the stack, `mlstack render`, check, apply."],
        ),
        "AlertmanagerNotificationsFailed" => (
            "Alertmanager failed to send notifications through an integration (email, webhook, Slack, Telegram) for 5 minutes.",
            "Someone is not being told about alerts.",
            &["Alertmanager logs name the integration and the error (SMTP auth, DNS, HTTP status).", "Are the mounted secret files present and current?"],
            &["Fix credentials (rotate the Secret) or the endpoint; Alertmanager retries on its own."],
        ),
        "AlertmanagerConfigReloadFailed" => (
            "Alertmanager's last configuration reload failed; it keeps running the previous configuration.",
            "Routing or receiver changes are not in effect.",
            &["Alertmanager logs show the error.", "`amtool check-config alertmanager.yaml` on the rendered file."],
            &["Fix the configuration in the stack, `mlstack render`, check, apply."],
        ),
        _ => ("", "", &[], &[]),
    }
}

fn render_one(name: &str, rules: &[(&RuleFile, &Alert)]) -> String {
    let (meaning, impact, diagnose, mitigate) = guidance(name);
    let mut out = format!("# {name}\n\n");
    if let Some((_, first)) = rules.first() {
        out.push_str(&format!("Severity: **{}**", first.severity.as_str()));
        if first.for_.as_secs() > 0 {
            out.push_str(&format!(", after the condition holds for {}", first.for_));
        }
        out.push_str(".\n\n");
    }
    out.push_str(&format!(
        "## Meaning\n\n{meaning}\n\n## Impact\n\n{impact}\n\n## Diagnosis\n\n"
    ));
    for step in diagnose {
        out.push_str(&format!("1. {step}\n"));
    }
    out.push_str("\n## Mitigation\n\n");
    for step in mitigate {
        out.push_str(&format!("- {step}\n"));
    }
    out.push_str("\n## Rules in this stack\n\n");
    for (file, alert) in rules {
        let who = alert
            .labels
            .get("app")
            .map(|a| format!(" (app `{a}`)"))
            .unwrap_or_default();
        out.push_str(&format!(
            "`{}`{who}:\n\n```promql\n{}\n```\n\n",
            file.path, alert.expr
        ));
    }
    out.push_str("Generated by mlstack from the stack file.\n");
    out
}

/// `runbooks/<Alert>.md` for every alert in `files`, and `runbooks/README.md` listing them.
pub fn runbooks(files: &[RuleFile]) -> BTreeMap<String, String> {
    let mut by_name: BTreeMap<&str, Vec<(&RuleFile, &Alert)>> = BTreeMap::new();
    for f in files {
        for a in f.alerts() {
            by_name.entry(a.name.as_str()).or_default().push((f, a));
        }
    }
    let mut out = BTreeMap::new();
    let mut index = String::from("# Runbooks\n\nOne page per alert the stack generates.\n\n| Alert | Severity |\n|---|---|\n");
    for (name, rules) in &by_name {
        out.insert(format!("runbooks/{name}.md"), render_one(name, rules));
        let sev = rules
            .first()
            .map(|(_, a)| a.severity.as_str())
            .unwrap_or("");
        index.push_str(&format!("| [{name}]({name}.md) | {sev} |\n"));
    }
    out.insert("runbooks/README.md".into(), index);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{rule_files, MonitoringSpec};

    #[test]
    fn one_runbook_per_alert_with_guidance() {
        let spec: MonitoringSpec = serde_json::from_str(r#"{"apps": [{"name": "a", "namespace": "n"}, {"name": "b", "namespace": "n"}], "kafka": {}}"#).unwrap();
        let files = rule_files(&spec);
        let books = runbooks(&files);
        for f in &files {
            for a in f.alerts() {
                let page = &books[&format!("runbooks/{}.md", a.name)];
                assert!(
                    !guidance(&a.name).0.is_empty(),
                    "no guidance for {}",
                    a.name
                );
                assert!(page.contains(&a.expr.to_string()));
                assert!(a.runbook_url.ends_with(&format!("{}.md", a.name)));
            }
        }
        assert!(books["runbooks/HighCPUUsage.md"].contains("(app `b`)"));
    }
}
