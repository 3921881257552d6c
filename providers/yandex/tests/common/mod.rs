//! A rig for driving the yandex provider against the sandbox cloud the way the engine does:
//! refresh (read) → plan → apply → wait-ready, with assertions on the plan's shape.
#![allow(dead_code)]

use mlstack_provider_api::{
    path_to_string, ApplyRequest, PlanRequest, PlannedResource, Provider, ReadResult, ResourceRef,
    Value,
};
use mlstack_provider_yandex::YandexProvider;
use mlstack_sandbox::{Cloud, CloudConfig, CloudHandle};
use std::time::Duration;

pub fn v(j: serde_json::Value) -> Value {
    Value::from(j)
}

/// `json` with `password` marked sensitive, as the engine marks a random password.
pub fn secret_password(j: serde_json::Value) -> Value {
    let mut x = v(j);
    if let Some(p) = x.get("password").cloned() {
        x.set_path(
            &mlstack_provider_api::parse_path("password"),
            p.into_sensitive(),
        );
    }
    x
}

/// The published Yandex Cloud API (the fixture extracted from the `yandexcloud` wheel).
pub fn published_api() -> mlstack_sandbox::conformance::PublishedApi {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/yandex_api/rest.json"
    );
    let text = std::fs::read_to_string(path).expect("the API fixture");
    mlstack_sandbox::conformance::PublishedApi::parse(&text).expect("a valid API fixture")
}

/// A sandbox rig holds the provider's traffic against the published API when it goes: a
/// request or answer the real API could not carry fails the test that made it.
impl Drop for Rig {
    fn drop(&mut self) {
        if self.sandbox.is_none() || std::thread::panicking() {
            return;
        }
        let problems = self.nonconforming();
        assert!(
            problems.is_empty(),
            "{} exchange(s) the published API does not allow:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}

pub const FOLDER: &str = "b1gtestfolder0000001";

pub struct Rig {
    /// The sandbox cloud; `None` against the real cloud (acceptance tests).
    pub sandbox: Option<CloudHandle>,
    pub p: YandexProvider,
    pub config: Value,
    /// How long wait-ready may take.
    pub ready: Duration,
}

pub fn quick() -> CloudConfig {
    CloudConfig {
        operation_delay: Duration::from_millis(50),
        ready_delay: Duration::from_millis(50),
        ..CloudConfig::default()
    }
}

impl Rig {
    pub async fn start() -> Rig {
        Rig::with(quick()).await
    }

    pub async fn with(config: CloudConfig) -> Rig {
        let cloud = Cloud::start(config).await.expect("cloud starts");
        cloud.record();
        let p = YandexProvider::sandbox(&cloud.endpoint, &cloud.ca_pem, &cloud.oauth_token);
        // The stack's own token and endpoint are ignored in sandbox mode.
        let config = v(serde_json::json!({
            "token": "t1.stack-token-that-must-be-ignored",
            "endpoint": "https://api.cloud.yandex.net",
            "folder_id": FOLDER,
            "zone": "ru-central1-a",
        }));
        Rig {
            sandbox: Some(cloud),
            p,
            config,
            ready: Duration::from_secs(60),
        }
    }

    /// A rig for the real cloud: the provider reads credentials from the environment.
    pub fn real(folder_id: &str, zone: &str) -> Rig {
        Rig {
            sandbox: None,
            p: YandexProvider::new(),
            config: v(serde_json::json!({"folder_id": folder_id, "zone": zone})),
            ready: Duration::from_secs(3600),
        }
    }

    /// Every request the provider sent and every answer the sandbox gave, held against the
    /// published API (tests/fixtures/yandex_api/rest.json): a path or field the real API
    /// lacks is a problem. Empty when all conform.
    pub fn nonconforming(&self) -> Vec<String> {
        let api = published_api();
        api.check_all(&self.cloud().exchanges())
    }

    pub fn cloud(&self) -> &CloudHandle {
        self.sandbox.as_ref().expect("a sandbox rig")
    }

    pub fn rr<'a>(&'a self, address: &'a str, type_name: &'a str) -> ResourceRef<'a> {
        ResourceRef {
            address,
            type_name,
            provider_config: &self.config,
        }
    }

    pub fn count(&self, kind: &str) -> usize {
        self.cloud().status().counts.get(kind).copied().unwrap_or(0)
    }

    /// Refresh then plan, as the engine does; (live, plan).
    pub async fn plan(
        &self,
        addr: &str,
        t: &str,
        desired: &Value,
        state: Option<&Value>,
    ) -> (Option<Value>, PlannedResource) {
        let live = match state {
            Some(s) => match self.p.read(self.rr(addr, t), s).await.expect("read") {
                ReadResult::Found(l) => Some(l),
                ReadResult::Gone => None,
            },
            None => None,
        };
        let plan = self
            .p
            .plan(PlanRequest {
                resource: self.rr(addr, t),
                desired,
                prior: state,
                live: live.as_ref(),
            })
            .await
            .expect("plan");
        (live, plan)
    }

    pub async fn apply(
        &self,
        addr: &str,
        t: &str,
        desired: &Value,
        prior: Option<&Value>,
    ) -> Value {
        let state = self
            .p
            .apply(ApplyRequest {
                resource: self.rr(addr, t),
                desired,
                prior,
                ignore_paths: &[],
            })
            .await
            .unwrap_or_else(|e| panic!("{addr}: apply failed: {e}"));
        self.p
            .wait_ready(self.rr(addr, t), &state, self.ready)
            .await
            .unwrap_or_else(|e| panic!("{addr}: not ready: {e}"));
        state
    }

    /// Plans a create (no adoption), applies it; the recorded state.
    pub async fn create(&self, addr: &str, t: &str, desired: &Value) -> Value {
        let (_, plan) = self.plan(addr, t, desired, None).await;
        assert!(plan.adopted.is_none(), "{addr}: unexpected adoption");
        assert!(plan
            .planned
            .get("id")
            .is_some_and(|i| i.is_unknown() || i.as_str().is_some()));
        let state = self.apply(addr, t, desired, None).await;
        assert!(
            state
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| !i.is_empty()),
            "{addr}: no id in {state}"
        );
        self.assert_noop(addr, t, desired, &state).await;
        self.assert_adoptable(addr, t, desired, &state).await;
        state
    }

    /// Had the create not been recorded, the next plan would find it by name and adopt it
    /// with no change to make.
    pub async fn assert_adoptable(&self, addr: &str, t: &str, desired: &Value, state: &Value) {
        let (_, plan) = self.plan(addr, t, desired, None).await;
        let adopted = plan
            .adopted
            .unwrap_or_else(|| panic!("{addr}: not found by name"));
        assert_eq!(
            adopted.get("id").and_then(Value::as_str),
            state.get("id").and_then(Value::as_str),
            "{addr}: adopted another object"
        );
        assert!(
            plan.requires_replace.is_empty(),
            "{addr}: {:?}",
            plan.requires_replace
        );
        // A password is set again (the lost apply may have set another); nothing else changes.
        let mut planned = plan.planned.clone();
        if adopted.get("password").is_none() {
            assert!(
                planned.remove_path(&mlstack_provider_api::parse_path("password"))
                    == desired.get("password").is_some()
            );
        }
        assert!(
            planned.same_data(&adopted),
            "{addr}: adoption plans a change\nplanned: {}\nadopted: {}",
            planned.to_json_unmarked(),
            adopted.to_json_unmarked()
        );
    }

    /// The plan against live is exactly live: no change, no replacement.
    pub async fn assert_noop(&self, addr: &str, t: &str, desired: &Value, state: &Value) {
        let (live, plan) = self.plan(addr, t, desired, Some(state)).await;
        let live = live.unwrap_or_else(|| panic!("{addr}: gone"));
        assert!(
            plan.requires_replace.is_empty(),
            "{addr}: replace {:?}",
            plan.requires_replace
        );
        assert!(
            plan.planned.same_data(&live),
            "{addr}: not a no-op plan\nplanned: {}\nlive:    {}",
            plan.planned.to_json_unmarked(),
            live.to_json_unmarked()
        );
    }

    /// Plans an in-place update (the plan differs from live, nothing replaced), applies it
    /// with the refreshed value as prior, and checks the next plan is quiet.
    pub async fn update(&self, addr: &str, t: &str, desired: &Value, state: &Value) -> Value {
        let (live, plan) = self.plan(addr, t, desired, Some(state)).await;
        let live = live.expect("live");
        assert!(
            plan.requires_replace.is_empty(),
            "{addr}: replace {:?} ({:?})",
            plan.requires_replace,
            plan.notes
        );
        assert!(!plan.planned.same_data(&live), "{addr}: no change planned");
        let new = self.apply(addr, t, desired, Some(&live)).await;
        assert_eq!(
            new.get("id").and_then(Value::as_str),
            live.get("id").and_then(Value::as_str),
            "{addr}: the id changed in an update"
        );
        self.assert_noop(addr, t, desired, &new).await;
        new
    }

    /// Plans a replacement naming `field`, deletes and creates; the new state.
    pub async fn replace(
        &self,
        addr: &str,
        t: &str,
        desired: &Value,
        state: &Value,
        field: &str,
    ) -> Value {
        let (_, plan) = self.plan(addr, t, desired, Some(state)).await;
        let names: Vec<String> = plan
            .requires_replace
            .iter()
            .map(|p| path_to_string(p))
            .collect();
        assert!(
            names.iter().any(|n| n == field),
            "{addr}: replacement should name {field}: {names:?}"
        );
        self.destroy(addr, t, state).await;
        let new = self.apply(addr, t, desired, None).await;
        self.assert_noop(addr, t, desired, &new).await;
        new
    }

    /// Deletes and checks the read says gone.
    pub async fn destroy(&self, addr: &str, t: &str, state: &Value) {
        self.p
            .delete(self.rr(addr, t), state)
            .await
            .unwrap_or_else(|e| panic!("{addr}: delete failed: {e}"));
        let r = self.p.read(self.rr(addr, t), state).await.expect("read");
        assert_eq!(r, ReadResult::Gone, "{addr}: still there");
        // Deleting what is gone is fine.
        self.p
            .delete(self.rr(addr, t), state)
            .await
            .unwrap_or_else(|e| panic!("{addr}: second delete failed: {e}"));
    }

    pub fn s<'a>(state: &'a Value, k: &str) -> &'a str {
        state.get(k).and_then(Value::as_str).unwrap_or("")
    }
}
