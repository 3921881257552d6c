//! `kubernetes_rollout`: a canary or blue-green rollout of a model-serving app, run during
//! apply (Argo Rollouts' and Flagger's model, without a controller in the cluster).
//!
//! The rollout owns the version-bearing objects: the stable Deployment `NAME` and, while a
//! rollout runs, `NAME-candidate` (plain), or the SeldonDeployment (seldon). The stack owns
//! the rest (Services, Ingresses, HPAs, PDBs). Its attributes are the properties plus a
//! `status`: the phase, the stable object (the last promoted `workload`), the candidate, the
//! step reached, the weight and the failures so far. Every phase change is checkpointed to
//! state (see [`mlstack_provider_api::progress`]) *before* the cluster is changed, so an apply
//! killed at any moment is resumed by the next one from the recorded step.
//!
//! When `workload` equals the stable object nothing runs and the plan is quiet; after a
//! promotion the stable object is the new workload, so the next plan is quiet too. A rolled
//! back version stays rolled back (the plan is quiet, with a note) until `workload` changes.

mod analysis;
mod roles;
pub mod spec;

use crate::api::{Client, ObjectId};
use crate::stages;
use mlstack_provider_api::{
    progress, ApplyRequest, AttrSchema, AttrType, PathStep, PlanRequest, PlannedResource,
    ProviderError, ProviderResult, ResourceSchema, StampValue, Value,
};
use serde_json::{json, Value as Json};
use spec::{Engine, Spec, Strategy};
use std::time::Duration;

/// The resource type.
pub const TYPE: &str = "kubernetes_rollout";

/// The type's attributes.
pub fn schema() -> ResourceSchema {
    let a = |t, d| AttrSchema::input(t).describe(d);
    ResourceSchema::new(
        "A canary or blue-green rollout of a model-serving app, stepped and gated during apply",
    )
    .attr(
        "strategy",
        a(AttrType::String, "canary | blue_green").required(),
    )
    .attr(
        "engine",
        a(
            AttrType::String,
            "plain (Deployments + ingress-nginx weight) | seldon (predictor traffic)",
        ),
    )
    .attr(
        "workload",
        a(
            AttrType::Any,
            "the stable role's Deployment or SeldonDeployment",
        )
        .required(),
    )
    .attr(
        "version",
        a(
            AttrType::Any,
            "the version the workload serves, for messages and the MLflow tag",
        ),
    )
    .attr(
        "mlflow",
        a(
            AttrType::Any,
            "{tracking_uri, name}: where to tag a failed version rollout=failed",
        ),
    )
    .attr(
        "steps",
        a(
            AttrType::List,
            "canary weights in percent, default [10, 25, 50, 100]",
        ),
    )
    .attr(
        "interval",
        a(
            AttrType::String,
            "wait per step before the analysis, e.g. 2m",
        ),
    )
    .attr(
        "failure_limit",
        a(
            AttrType::Number,
            "failed analyses tolerated before the rollback (default 0)",
        ),
    )
    .attr(
        "analysis",
        a(
            AttrType::List,
            "[{name, query, max|min}] PromQL checks per step",
        ),
    )
    .attr(
        "prometheus_url",
        a(
            AttrType::String,
            "the Prometheus HTTP API the analysis queries",
        ),
    )
    .attr(
        "ready_timeout",
        a(
            AttrType::String,
            "how long the new side may take to become Ready (default 5m)",
        ),
    )
    .attr(
        "status",
        AttrSchema::computed(AttrType::Any)
            .describe("phase, stable and candidate objects, step, weight, failures"),
    )
    .stamp(
        &["workload", "metadata", "labels", crate::MANAGED_BY_LABEL],
        StampValue::Literal("mlstack"),
    )
    .stamp(
        &["workload", "metadata", "labels", crate::STACK_LABEL],
        StampValue::StackName,
    )
}

fn key(k: &str) -> Vec<PathStep> {
    vec![PathStep::Key(k.to_string())]
}

/// The attributes to record: the properties and `status`.
fn attributes(desired: &Value, status: Option<&Json>) -> Value {
    let mut v = desired.clone();
    v.set_path(
        &key("status"),
        status.map_or(Value::Unknown, |s| Value::from(s.clone())),
    );
    v
}

fn status_of(prior: Option<&Value>) -> Option<Json> {
    prior
        .and_then(|p| p.get("status"))
        .filter(|s| !s.contains_unknown())
        .map(Value::to_json_unmarked)
        .filter(|s| s.get("stable").is_some_and(Json::is_object))
}

fn phase(st: &Json) -> &str {
    st.get("phase").and_then(Json::as_str).unwrap_or_default()
}

/// Plan: quiet when the stack's workload is the stable one (or the one already rolled back).
pub fn plan(req: &PlanRequest<'_>) -> ProviderResult<PlannedResource> {
    let desired = req.desired;
    let st = status_of(req.prior);
    let workload = desired.get("workload").map(Value::to_json_unmarked);
    let version = desired
        .get("version")
        .map(|v| {
            v.to_json_unmarked()
                .to_string()
                .trim_matches('"')
                .to_string()
        })
        .unwrap_or_default();
    let Some(st) = st else {
        let mut p = PlannedResource::new(attributes(desired, None));
        p.notes
            .push("the first version is deployed directly; later versions roll out".into());
        return Ok(p);
    };
    if desired.contains_unknown() {
        return Ok(PlannedResource::new(attributes(desired, None)));
    }
    if workload.as_ref() == st.get("stable") && phase(&st) == "healthy" {
        return Ok(PlannedResource::new(attributes(desired, Some(&st))));
    }
    if phase(&st) == "failed" && workload.as_ref() == st.get("candidate") {
        let mut p = PlannedResource::new(attributes(desired, Some(&st)));
        p.notes.push(format!(
            "version {version} was rolled back ({}); change the model to roll out again",
            st.get("message")
                .and_then(Json::as_str)
                .unwrap_or("analysis failed")
        ));
        return Ok(p);
    }
    let mut p = PlannedResource::new(attributes(desired, None));
    let from = st
        .get("stable_version")
        .and_then(Json::as_str)
        .unwrap_or("?");
    let props = desired.to_json_unmarked();
    let how = match Spec::from_properties(&props) {
        Ok(s) if s.strategy == Strategy::Canary => format!(
            "canary {from} -> {version}: steps {} every {}",
            s.steps
                .iter()
                .map(|w| format!("{w}%"))
                .collect::<Vec<_>>()
                .join(" -> "),
            humanize(s.interval)
        ),
        Ok(_) => format!("blue-green {from} -> {version}: switch when ready"),
        Err(e) => e,
    };
    if matches!(phase(&st), "progressing" | "promoting") {
        p.notes.push(format!(
            "an interrupted rollout (phase {}, step {}) is resumed",
            phase(&st),
            st.get("step").and_then(Json::as_u64).unwrap_or(0) + 1
        ));
    }
    p.notes.push(how);
    Ok(p)
}

fn humanize(d: Duration) -> String {
    if !d.as_millis().is_multiple_of(1000) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}

/// Apply: deploy the first version, resume an interrupted rollout, or run a new one.
pub async fn apply(client: &Client, req: &ApplyRequest<'_>) -> ProviderResult<Value> {
    let props = req.desired.to_json_unmarked();
    let spec = Spec::from_properties(&props).map_err(ProviderError::new)?;
    let run = Run {
        client,
        spec: &spec,
        desired: req.desired,
    };
    run.go(status_of(req.prior)).await
}

/// Destroy: the objects the rollout owns.
pub async fn delete(client: &Client, prior: &Value) -> ProviderResult<()> {
    let props = prior.to_json_unmarked();
    let engine = props
        .get("engine")
        .and_then(Json::as_str)
        .unwrap_or("plain");
    let mut objects = Vec::new();
    if let Some(st) = props.get("status") {
        for k in ["stable", "candidate"] {
            if let Some(w) = st.get(k).filter(|w| w.is_object()) {
                objects.push(if engine == "plain" && k == "candidate" {
                    roles::candidate_deployment(w)
                } else {
                    w.clone()
                });
            }
        }
    }
    if let Some(w) = props.get("workload").filter(|w| w.is_object()) {
        if engine == "plain" {
            objects.push(roles::candidate_deployment(w));
        }
        objects.push(w.clone());
    }
    let mut done: Vec<ObjectId> = Vec::new();
    for o in &objects {
        if let Some(id) = roles::id(o) {
            if !done.contains(&id) {
                stages::delete(client, &id).await?;
                done.push(id);
            }
        }
    }
    Ok(())
}

struct Run<'a> {
    client: &'a Client,
    spec: &'a Spec,
    desired: &'a Value,
}

/// The state of a rollout in progress.
struct Status {
    phase: &'static str,
    stable: Json,
    stable_version: String,
    candidate: Option<Json>,
    step: usize,
    weight: u32,
    failures: u32,
    message: String,
}

impl Status {
    fn json(&self) -> Json {
        json!({
            "phase": self.phase,
            "stable": self.stable,
            "stable_version": self.stable_version,
            "candidate": self.candidate,
            "candidate_version": Json::Null,
            "step": self.step,
            "weight": self.weight,
            "failures": self.failures,
            "message": self.message,
        })
    }
}

impl Run<'_> {
    fn version(&self) -> &str {
        &self.spec.version
    }

    fn record(&self, st: &Status) -> Value {
        let mut j = st.json();
        if st.candidate.is_some() {
            j["candidate_version"] = json!(self.version());
        }
        attributes(self.desired, Some(&j))
    }

    async fn checkpoint(&self, st: &Status) -> ProviderResult<()> {
        progress::checkpoint(&self.record(st)).await
    }

    fn note(&self, message: String, detail: Json) {
        progress::report(message, detail);
    }

    async fn go(&self, prior: Option<Json>) -> ProviderResult<Value> {
        let workload = &self.spec.workload;
        let Some(prior) = prior else {
            // The first version: nothing serves yet, so there is no traffic to shift.
            self.put_stable(workload).await?;
            self.wait_ready(&self.stable_id(workload)?).await?;
            if self.spec.engine == Engine::Plain {
                self.set_weight(0).await?;
            }
            let st = Status {
                phase: "healthy",
                stable: workload.clone(),
                stable_version: self.version().to_string(),
                candidate: None,
                step: 0,
                weight: 0,
                failures: 0,
                message: String::new(),
            };
            return Ok(self.record(&st));
        };
        let stable = prior.get("stable").cloned().unwrap_or(Json::Null);
        let stable_version = prior
            .get("stable_version")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let prior_candidate = prior.get("candidate").filter(|c| c.is_object());
        let running = matches!(phase(&prior), "progressing" | "promoting");
        if &stable == workload && !running {
            let st = Status {
                phase: "healthy",
                stable,
                stable_version,
                candidate: None,
                step: 0,
                weight: 0,
                failures: 0,
                message: String::new(),
            };
            return Ok(self.record(&st));
        }
        if phase(&prior) == "failed" && prior_candidate == Some(workload) {
            return Ok(attributes(self.desired, Some(&prior)));
        }
        let resume = running && prior_candidate == Some(workload);
        let mut st = Status {
            phase: "progressing",
            stable,
            stable_version,
            candidate: Some(workload.clone()),
            step: 0,
            weight: 0,
            failures: 0,
            message: String::new(),
        };
        if running && !resume {
            // The stack moved on while a rollout was interrupted: retire that candidate first.
            self.note(
                "an interrupted rollout of another version is abandoned: all traffic back to stable".into(),
                json!({"phase": "abandon"}),
            );
            self.shift_back(&st.stable, prior_candidate).await?;
        }
        if resume {
            st.step = prior.get("step").and_then(Json::as_u64).unwrap_or(0) as usize;
            st.weight = prior.get("weight").and_then(Json::as_u64).unwrap_or(0) as u32;
            st.failures = prior.get("failures").and_then(Json::as_u64).unwrap_or(0) as u32;
            self.note(
                format!(
                    "resuming the interrupted rollout of version {} at step {} (weight {}%)",
                    self.version(),
                    st.step + 1,
                    st.weight
                ),
                json!({"phase": "resume", "step": st.step + 1, "weight": st.weight}),
            );
            if phase(&prior) == "promoting" {
                return self.promote(st).await;
            }
        } else {
            self.checkpoint(&st).await?;
            self.note(
                format!(
                    "{} of version {} (stable {}) started",
                    match self.spec.strategy {
                        Strategy::Canary => "canary",
                        Strategy::BlueGreen => "blue-green",
                    },
                    self.version(),
                    st.stable_version
                ),
                json!({"phase": "start", "version": self.version(), "stable_version": st.stable_version}),
            );
        }
        if let Err(e) = self.put_candidate(&st).await {
            return self
                .roll_back(
                    st,
                    format!("the new version could not be deployed: {e}"),
                    Vec::new(),
                )
                .await;
        }
        if let Err(e) = self.wait_ready(&self.candidate_id()?).await {
            return self
                .roll_back(
                    st,
                    format!("the new version did not become ready: {e}"),
                    Vec::new(),
                )
                .await;
        }
        self.note(
            format!("version {} is ready", self.version()),
            json!({"phase": "ready", "version": self.version()}),
        );
        let steps: Vec<u32> = match self.spec.strategy {
            Strategy::Canary => self.spec.steps.clone(),
            Strategy::BlueGreen => vec![100],
        };
        let n = steps.len();
        for (i, &w) in steps.iter().enumerate().skip(st.step) {
            st.step = i;
            st.weight = w;
            self.checkpoint(&st).await?;
            self.set_traffic(&st).await?;
            self.note(
                format!(
                    "step {}/{n}: weight {w}% to version {}",
                    i + 1,
                    self.version()
                ),
                json!({"phase": "step", "step": i + 1, "steps": n, "weight": w}),
            );
            loop {
                if self.spec.analysis.is_empty() && self.spec.strategy == Strategy::BlueGreen {
                    break;
                }
                tokio::time::sleep(self.spec.interval).await;
                let outcomes = match &self.spec.prometheus_url {
                    Some(url) => analysis::run(url, &self.spec.analysis).await,
                    None => Vec::new(),
                };
                let passed = outcomes.iter().all(|o| o.passed);
                let lines: Vec<String> = outcomes.iter().map(analysis::Outcome::line).collect();
                if !outcomes.is_empty() {
                    self.note(
                        format!("step {}/{n}: {}", i + 1, lines.join(", ")),
                        json!({"phase": "analysis", "step": i + 1, "weight": w, "passed": passed,
                               "results": outcomes.iter().map(analysis::Outcome::json).collect::<Vec<_>>()}),
                    );
                }
                if passed {
                    break;
                }
                st.failures += 1;
                if st.failures > self.spec.failure_limit {
                    let failed: Vec<String> = outcomes
                        .iter()
                        .filter(|o| !o.passed)
                        .map(|o| format!("{}: `{}` = {}", o.name, o.query, o.line()))
                        .collect();
                    let why = format!(
                        "analysis failed {} time(s) (failure_limit {}) at step {}/{n} (weight {w}%)",
                        st.failures,
                        self.spec.failure_limit,
                        i + 1
                    );
                    return self.roll_back(st, why, failed).await;
                }
                self.checkpoint(&st).await?;
            }
        }
        self.promote(st).await
    }

    /// The new version becomes stable: the stable role is updated to it, all traffic returns
    /// to the stable role, the candidate goes.
    async fn promote(&self, mut st: Status) -> ProviderResult<Value> {
        st.phase = "promoting";
        self.checkpoint(&st).await?;
        let workload = &self.spec.workload;
        match self.spec.engine {
            Engine::Plain => {
                self.put_stable(workload).await?;
                self.wait_ready(&self.stable_id(workload)?).await?;
                self.set_weight(0).await?;
                stages::delete(self.client, &self.candidate_id()?).await?;
            }
            Engine::Seldon => {
                self.put_stable(workload).await?;
            }
        }
        let st = Status {
            phase: "healthy",
            stable: workload.clone(),
            stable_version: self.version().to_string(),
            candidate: None,
            step: 0,
            weight: 0,
            failures: 0,
            message: String::new(),
        };
        self.note(
            format!(
                "version {} promoted: it is now stable and serves 100%",
                self.version()
            ),
            json!({"phase": "promoted", "version": self.version()}),
        );
        Ok(self.record(&st))
    }

    /// Analysis failed: all traffic to stable, the candidate removed, the version tagged.
    async fn roll_back(
        &self,
        mut st: Status,
        why: String,
        failed: Vec<String>,
    ) -> ProviderResult<Value> {
        self.shift_back(&st.stable, st.candidate.as_ref()).await?;
        let mut report = format!(
            "rollout of version {} rolled back: {why}; all traffic is back on version {}",
            self.version(),
            st.stable_version
        );
        for f in &failed {
            report.push_str(&format!("\n  {f}"));
        }
        if let Some(r) = &self.spec.registry {
            let tagged = match mlstack_provider_mlflow::connect(
                &Value::map(),
                &Value::from(json!({"tracking_uri": r.tracking_uri})),
            ) {
                Ok(c) => c
                    .set_version_tag(&r.model, self.version(), "rollout", "failed")
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match tagged {
                Ok(()) => report.push_str(&format!(
                    "\n  MLflow: {} version {} tagged rollout=failed",
                    r.model,
                    self.version()
                )),
                Err(e) => report.push_str(&format!("\n  MLflow: tagging the version failed: {e}")),
            }
        }
        st.phase = "failed";
        st.weight = 0;
        st.message = why;
        self.checkpoint(&st).await?;
        self.note(
            format!("version {} rolled back", self.version()),
            json!({"phase": "rolled_back", "version": self.version(), "failed": failed}),
        );
        Err(ProviderError::new(report))
    }

    /// All traffic to stable and the candidate gone.
    async fn shift_back(&self, stable: &Json, candidate: Option<&Json>) -> ProviderResult<()> {
        match self.spec.engine {
            Engine::Plain => {
                self.set_weight(0).await?;
                if let Some(c) = candidate {
                    if let Some(id) = roles::id(&roles::candidate_deployment(c)) {
                        stages::delete(self.client, &id).await?;
                    }
                }
                Ok(())
            }
            Engine::Seldon => self.apply_obj(&roles::seldon(stable, None, 0)).await,
        }
    }

    fn stable_id(&self, workload: &Json) -> ProviderResult<ObjectId> {
        roles::id(workload).ok_or_else(|| ProviderError::new("the workload has no identity"))
    }

    fn candidate_id(&self) -> ProviderResult<ObjectId> {
        let obj = match self.spec.engine {
            Engine::Plain => roles::candidate_deployment(&self.spec.workload),
            Engine::Seldon => self.spec.workload.clone(),
        };
        roles::id(&obj).ok_or_else(|| ProviderError::new("the workload has no identity"))
    }

    async fn apply_obj(&self, obj: &Json) -> ProviderResult<()> {
        let id = roles::id(obj).ok_or_else(|| ProviderError::new("an object without identity"))?;
        self.client
            .apply(obj, false, true)
            .await
            .map(|_| ())
            .map_err(|e| stages::err(&id, "server-side apply failed", e))
    }

    /// The stable role serving `workload`, all its traffic.
    async fn put_stable(&self, workload: &Json) -> ProviderResult<()> {
        match self.spec.engine {
            Engine::Plain => self.apply_obj(&roles::stable_deployment(workload)).await,
            Engine::Seldon => self.apply_obj(&roles::seldon(workload, None, 0)).await,
        }
    }

    /// The candidate role (plain: its Deployment; seldon: the second predictor at the weight).
    async fn put_candidate(&self, st: &Status) -> ProviderResult<()> {
        match self.spec.engine {
            Engine::Plain => {
                self.apply_obj(&roles::candidate_deployment(&self.spec.workload))
                    .await
            }
            Engine::Seldon => self.set_traffic(st).await,
        }
    }

    async fn set_traffic(&self, st: &Status) -> ProviderResult<()> {
        match self.spec.engine {
            Engine::Plain => self.set_weight(st.weight).await,
            Engine::Seldon => {
                self.apply_obj(&roles::seldon(
                    &st.stable,
                    Some(&self.spec.workload),
                    st.weight,
                ))
                .await
            }
        }
    }

    /// Plain: the candidate Ingress's `canary-weight`, as its own field manager.
    async fn set_weight(&self, weight: u32) -> ProviderResult<()> {
        let id = roles::candidate_ingress(self.spec.name(), self.spec.namespace());
        let path = self
            .client
            .path(&id)
            .await
            .map_err(|e| stages::err(&id, "finding the Ingress failed", e))?;
        let body = serde_json::to_vec(&roles::weight_patch(weight)).unwrap_or_default();
        self.client
            .call(
                "PATCH",
                &format!("{path}?fieldManager={}", roles::WEIGHT_MANAGER),
                Some(("application/merge-patch+json", body)),
            )
            .await
            .map(|_| ())
            .map_err(|e| stages::err(&id, "setting the canary weight failed", e))
    }

    async fn wait_ready(&self, id: &ObjectId) -> ProviderResult<()> {
        stages::wait_ready(self.client, id, self.spec.ready_timeout).await
    }
}
