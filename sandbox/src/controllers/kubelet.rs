//! The one simulated node: the scheduler binds every Pod to it, its kubelet reports the
//! Pod Running and Ready after the ready delay (a Job's Pod Succeeded), with podIP, hostIP
//! and containerStatuses, and ends a gracefully deleted Pod after the ready delay (the
//! sandbox's short stand-in for the grace period).

use super::client::{delete, set, update, KUBELET};
use super::Clock;
use crate::api::Api;
use crate::delete::deleting;
use crate::meta::{meta_str, now_rfc3339};
use crate::store::Key;
use serde_json::{json, Value};

/// The simulated node's name.
pub const NODE: &str = "sandbox-node-1";
/// Its address.
pub const HOST_IP: &str = "10.128.0.10";

/// Runs the scheduler and the kubelet over every Pod.
pub fn sync(api: &mut Api, clock: &Clock) {
    let pods: Vec<(Key, Value)> = api
        .store
        .list("", "pods", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let live: std::collections::BTreeSet<String> = pods
        .iter()
        .filter_map(|(_, p)| meta_str(p, "uid").map(String::from))
        .collect();
    api.ctl.seen.retain(|uid, _| live.contains(uid));
    api.ctl.terminating.retain(|uid, _| live.contains(uid));
    for (k, pod) in pods {
        let uid = meta_str(&pod, "uid").unwrap_or_default().to_string();
        if deleting(&pod) {
            let grace = pod
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if grace == 0 {
                continue;
            }
            let since = *api.ctl.terminating.entry(uid).or_insert(clock.now);
            if clock.now.duration_since(since) >= clock.ready_delay {
                delete(api, KUBELET, &k, &json!({"gracePeriodSeconds": 0}));
            }
            continue;
        }
        let seen = *api.ctl.seen.entry(uid).or_insert(clock.now);
        let mut pod = pod;
        let unscheduled = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if unscheduled {
            set(&mut pod, &["spec", "nodeName"], json!(NODE));
            if !update(api, "kube-scheduler/v1.32.0 sandbox", &k, &pod, false) {
                continue;
            }
            match api.store.get(&k) {
                Some(p) => pod = p.clone(),
                None => continue,
            }
        }
        let phase = pod.pointer("/status/phase").and_then(Value::as_str);
        let due = clock.now.duration_since(seen) >= clock.ready_delay;
        let next = match phase {
            None | Some("Pending") if due => {
                let job = pod
                    .pointer("/spec/restartPolicy")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r != "Always")
                    && super::client::controlled_by_kind(&pod, "Job");
                if job {
                    "Succeeded"
                } else {
                    "Running"
                }
            }
            None => "Pending",
            Some("Pending") if pod.pointer("/status/hostIP").is_none() => "Pending",
            _ => continue,
        };
        let ip = if next == "Pending" {
            None
        } else {
            api.ctl.next_pod_ip += 1;
            let n = api.ctl.next_pod_ip;
            Some(format!("10.112.{}.{}", (n / 250) % 250, n % 250 + 1))
        };
        let status = pod_status(&pod, next, ip.as_deref());
        set(&mut pod, &["status"], status);
        update(api, KUBELET, &k, &pod, true);
    }
}

fn pod_status(pod: &Value, phase: &str, ip: Option<&str>) -> Value {
    let now = now_rfc3339();
    let running = phase == "Running";
    let done = phase == "Succeeded";
    let started = pod
        .pointer("/status/startTime")
        .cloned()
        .unwrap_or(json!(now));
    let cond = |t: &str, ok: bool, reason: Option<&str>| {
        let mut c = json!({"type": t, "status": if ok { "True" } else { "False" },
                           "lastProbeTime": null, "lastTransitionTime": now});
        if let Some(r) = reason {
            c["reason"] = json!(r);
        }
        c
    };
    let scheduled_only = phase == "Pending";
    let reason = if done {
        Some("PodCompleted")
    } else if scheduled_only {
        Some("ContainersNotReady")
    } else {
        None
    };
    let conditions = vec![
        cond("PodReadyToStartContainers", !scheduled_only, None),
        cond("Initialized", true, done.then_some("PodCompleted")),
        cond("Ready", running, reason),
        cond("ContainersReady", running, reason),
        cond("PodScheduled", true, None),
    ];
    let containers: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let name = c.get("name").cloned().unwrap_or(json!(""));
                    let image = c.get("image").cloned().unwrap_or(json!(""));
                    let state = if running {
                        json!({"running": {"startedAt": now}})
                    } else if done {
                        json!({"terminated": {"exitCode": 0, "reason": "Completed",
                                              "startedAt": started, "finishedAt": now,
                                              "containerID": "containerd://sandbox"}})
                    } else {
                        json!({"waiting": {"reason": "ContainerCreating"}})
                    };
                    let mut s = json!({
                        "name": name, "image": image, "ready": running,
                        "restartCount": 0, "started": running, "state": state,
                        "lastState": {},
                    });
                    if !scheduled_only {
                        s["imageID"] = json!(format!(
                            "{}@sha256:{}",
                            image.as_str().unwrap_or_default(),
                            "0".repeat(64)
                        ));
                        s["containerID"] = json!(format!(
                            "containerd://{}",
                            meta_str(pod, "uid").unwrap_or_default().replace('-', "")
                        ));
                    }
                    s
                })
                .collect()
        })
        .unwrap_or_default();
    let qos = pod
        .pointer("/status/qosClass")
        .cloned()
        .unwrap_or(json!(qos_class(pod)));
    let mut st = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": HOST_IP,
        "hostIPs": [{"ip": HOST_IP}],
        "startTime": started,
        "containerStatuses": containers,
        "qosClass": qos,
    });
    if let Some(ip) = ip {
        st["podIP"] = json!(ip);
        st["podIPs"] = json!([{"ip": ip}]);
    }
    st
}

/// BestEffort without any requests or limits, Guaranteed when every container's limits
/// equal its requests (or only limits are set), else Burstable.
fn qos_class(pod: &Value) -> &'static str {
    let cs: Vec<&Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let res = |c: &Value, k: &str| {
        c.pointer(&format!("/resources/{k}"))
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
            .cloned()
    };
    if cs
        .iter()
        .all(|c| res(c, "requests").is_none() && res(c, "limits").is_none())
    {
        return "BestEffort";
    }
    let guaranteed = cs
        .iter()
        .all(|c| match (res(c, "requests"), res(c, "limits")) {
            (_, None) => false,
            (None, Some(l)) => l.contains_key("cpu") && l.contains_key("memory"),
            (Some(r), Some(l)) => l.contains_key("cpu") && l.contains_key("memory") && r == l,
        });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}
