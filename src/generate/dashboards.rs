//! Grafana dashboards as a typed JSON model (classic model, `schemaVersion` 39): one per app,
//! with the datasource referenced by uid (no `${DS_...}` import inputs, which file- and
//! ConfigMap-provisioned dashboards cannot resolve), panel ids and grid positions derived from
//! the panel order, and every query built by [`super::queries`] — the same PromQL the alerts use.

use super::alerts::percent;
use super::promql::{Selector, Window};
use super::queries;
use super::spec::{AppSpec, MonitoringSpec};
use serde::Serialize;

/// The classic dashboard schema version we emit (what Grafana 10.4–12 and the mixins use).
pub const SCHEMA_VERSION: u32 = 39;
const W: Window = Window::GrafanaRateInterval;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    /// Always null in provisioned files (Grafana assigns it).
    pub id: Option<u64>,
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub timezone: String,
    pub editable: bool,
    pub graph_tooltip: u8,
    pub schema_version: u32,
    pub version: u32,
    pub refresh: String,
    pub time: TimeRange,
    pub templating: List<serde_json::Value>,
    pub annotations: List<Annotation>,
    pub links: Vec<serde_json::Value>,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct List<T> {
    pub list: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

/// An annotation query (firing alerts of the app drawn on every panel).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation {
    pub name: String,
    pub datasource: DatasourceRef,
    pub enable: bool,
    pub icon_color: String,
    pub expr: String,
    pub title_format: String,
    pub text_format: String,
    pub step: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub ref_id: String,
    pub datasource: DatasourceRef,
    pub expr: String,
    pub legend_format: String,
    pub range: bool,
    pub instant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdStep {
    pub color: String,
    /// `None` is the base step (JSON null).
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    pub mode: String,
    pub steps: Vec<ThresholdStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdsStyle {
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Custom {
    pub draw_style: String,
    pub line_width: u32,
    pub fill_opacity: u32,
    pub show_points: String,
    pub span_nulls: bool,
    pub thresholds_style: ThresholdsStyle,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDefaults {
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    pub thresholds: Thresholds,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Custom>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldConfig {
    pub defaults: FieldDefaults,
    pub overrides: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Legend {
    pub display_mode: String,
    pub placement: String,
    pub show_legend: bool,
    pub calcs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tooltip {
    pub mode: String,
    pub sort: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReduceOptions {
    pub calcs: Vec<String>,
    pub fields: String,
    pub values: bool,
}

/// Panel options by panel type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PanelOptions {
    TimeSeries {
        legend: Legend,
        tooltip: Tooltip,
    },
    #[serde(rename_all = "camelCase")]
    Stat {
        reduce_options: ReduceOptions,
        text_mode: String,
        color_mode: String,
        graph_mode: String,
        justify_mode: String,
        orientation: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub id: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub description: String,
    pub grid_pos: GridPos,
    pub datasource: DatasourceRef,
    pub targets: Vec<Target>,
    pub field_config: FieldConfig,
    pub options: PanelOptions,
}

impl Dashboard {
    /// Every PromQL query of the dashboard (targets and annotations).
    pub fn queries(&self) -> Vec<String> {
        let mut q: Vec<String> = self
            .panels
            .iter()
            .flat_map(|p| p.targets.iter().map(|t| t.expr.clone()))
            .collect();
        q.extend(self.annotations.list.iter().map(|a| a.expr.clone()));
        q
    }

    /// Pretty JSON, as a provisioned file or ConfigMap key holds it.
    pub fn to_json_string(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// `expr` with Grafana's variables replaced by values Prometheus accepts, to check it as PromQL.
pub fn for_promtool(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
}

/// A panel before layout (id and position come from its place in the list).
struct Draft {
    kind: &'static str,
    title: String,
    description: String,
    unit: &'static str,
    min: Option<f64>,
    threshold: Option<f64>,
    targets: Vec<(String, String, bool)>,
}

fn draft(title: &str, description: String, unit: &'static str) -> Draft {
    Draft {
        kind: "timeseries",
        title: title.into(),
        description,
        unit,
        min: Some(0.0),
        threshold: None,
        targets: Vec::new(),
    }
}

impl Draft {
    fn target(mut self, expr: impl ToString, legend: &str) -> Self {
        self.targets.push((expr.to_string(), legend.into(), false));
        self
    }

    fn line_at(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }
}

fn legend(label: &str) -> String {
    format!("{{{{{label}}}}}")
}

fn drafts(spec: &MonitoringSpec, app: &AppSpec) -> Vec<Draft> {
    let a = app;
    let ready = Selector::new("kube_deployment_status_replicas_ready")
        .eq("namespace", &a.namespace)
        .eq("deployment", a.deployment());
    let mut d = vec![
        draft("Request rate", format!("Requests per second to {} by status code.", a.name), "reqps")
            .target(queries::request_rate(a, &[a.status_label.as_str()], W), &legend(&a.status_label)),
        draft("Error ratio (5xx)", format!("Share of requests answered with 5xx; HighErrorRate fires above {}.", percent(a.error_rate_threshold)), "percentunit")
            .target(queries::error_ratio(a, W), "5xx share")
            .line_at(a.error_rate_threshold),
        draft("Latency p50 / p95 / p99", format!("Request latency quantiles; HighResponseTime fires when p95 stays above {} s.", a.latency_p95_seconds), "s")
            .target(queries::latency_quantile(a, 0.5, W), "p50")
            .target(queries::latency_quantile(a, 0.95, W), "p95")
            .target(queries::latency_quantile(a, 0.99, W), "p99")
            .line_at(a.latency_p95_seconds),
        draft("Replicas (min / max)", format!("Replicas the HPA runs, wants and has ready, against its bounds ({}..{}).", a.min_replicas, a.max_replicas), "short")
            .target(queries::hpa_current_replicas(a), "current")
            .target(queries::hpa_metric(a, "kube_horizontalpodautoscaler_status_desired_replicas"), "desired")
            .target(queries::hpa_metric(a, "kube_horizontalpodautoscaler_spec_min_replicas"), "min")
            .target(queries::hpa_metric(a, "kube_horizontalpodautoscaler_spec_max_replicas"), "max")
            .target(ready.vector(), "ready"),
        draft("CPU per replica (share of limit)", format!("CPU used by each replica as a share of its limit; HighCPUUsage fires above {}.", percent(a.cpu_threshold)), "percentunit")
            .target(queries::cpu_ratio_per_pod(a, W), "{{pod}}")
            .line_at(a.cpu_threshold),
        draft("Memory per replica", "Working set of each replica, and its limit.".into(), "bytes")
            .target(queries::memory_per_pod(a), "{{pod}}")
            .target(queries::memory_limit_per_pod(a), "limit {{pod}}"),
        draft("Predictions by outcome", format!("Predictions per second by `{}`.", a.outcome_label), "ops")
            .target(queries::predictions_by_outcome(a, W), &legend(&a.outcome_label)),
        draft("Input drift (PSI)", format!("Population stability index of each input feature over the API's recent window vs the training data; ModelInputDrift fires above {}.", a.drift_threshold), "none")
            .target(queries::input_drift(a), &legend(&a.feature_label))
            .line_at(a.drift_threshold),
        Draft {
            kind: "stat",
            title: "Model version".into(),
            description: format!("Model version(s) served now, from `{}`; the value is the number of replicas serving it.", a.model_info_metric),
            unit: "short",
            min: None,
            threshold: None,
            targets: vec![(queries::model_versions(a).to_string(), legend(&a.version_label), true)],
        },
    ];
    if let Some(k) = &spec.kafka {
        d.push(
            draft("Kafka consumer lag", format!("Messages behind per consumer group and topic (-1 partitions count 0); HighKafkaQueueLength fires above {}.", k.lag_threshold), "short")
                .target(queries::kafka_lag(k), "{{consumergroup}} / {{topic}}")
                .line_at(k.lag_threshold as f64),
        );
    }
    d
}

fn datasource(spec: &MonitoringSpec) -> DatasourceRef {
    DatasourceRef {
        kind: "prometheus".into(),
        uid: spec.grafana.datasource_uid.clone(),
    }
}

fn layout(spec: &MonitoringSpec, i: usize, d: Draft) -> Panel {
    let (w, h) = (8, 8);
    let ds = datasource(spec);
    let mut steps = vec![ThresholdStep {
        color: "green".into(),
        value: None,
    }];
    if let Some(t) = d.threshold {
        steps.push(ThresholdStep {
            color: "red".into(),
            value: Some(t),
        });
    }
    let timeseries = d.kind == "timeseries";
    Panel {
        id: i as u32 + 1,
        kind: d.kind.into(),
        title: d.title,
        description: d.description,
        grid_pos: GridPos {
            h,
            w,
            x: (i as u32 % 3) * w,
            y: (i as u32 / 3) * h,
        },
        datasource: ds.clone(),
        targets: d
            .targets
            .into_iter()
            .enumerate()
            .map(|(j, (expr, legend_format, instant))| Target {
                ref_id: ((b'A' + j as u8) as char).to_string(),
                datasource: ds.clone(),
                expr,
                legend_format,
                range: !instant,
                instant,
            })
            .collect(),
        field_config: FieldConfig {
            defaults: FieldDefaults {
                unit: d.unit.into(),
                min: d.min,
                thresholds: Thresholds {
                    mode: "absolute".into(),
                    steps,
                },
                custom: timeseries.then(|| Custom {
                    draw_style: "line".into(),
                    line_width: 1,
                    fill_opacity: 10,
                    show_points: "never".into(),
                    span_nulls: true,
                    thresholds_style: ThresholdsStyle {
                        mode: if d.threshold.is_some() { "line" } else { "off" }.into(),
                    },
                }),
            },
            overrides: Vec::new(),
        },
        options: if timeseries {
            PanelOptions::TimeSeries {
                legend: Legend {
                    display_mode: "list".into(),
                    placement: "bottom".into(),
                    show_legend: true,
                    calcs: Vec::new(),
                },
                tooltip: Tooltip {
                    mode: "multi".into(),
                    sort: "desc".into(),
                },
            }
        } else {
            PanelOptions::Stat {
                reduce_options: ReduceOptions {
                    calcs: vec!["lastNotNull".into()],
                    fields: String::new(),
                    values: false,
                },
                text_mode: "name".into(),
                color_mode: "none".into(),
                graph_mode: "none".into(),
                justify_mode: "auto".into(),
                orientation: "auto".into(),
            }
        },
    }
}

/// A stable dashboard uid (Grafana allows at most 40 characters).
pub fn dashboard_uid(app: &AppSpec) -> String {
    let uid = format!("mlstack-{}-{}", app.namespace, app.name);
    if uid.len() <= 40 {
        return uid;
    }
    let hash = uid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{:08x}", &uid[..31], hash as u32)
}

/// The dashboard of one app.
pub fn app_dashboard(spec: &MonitoringSpec, app: &AppSpec) -> Dashboard {
    let panels = drafts(spec, app)
        .into_iter()
        .enumerate()
        .map(|(i, d)| layout(spec, i, d))
        .collect();
    let mut tags = spec.grafana.tags.clone();
    tags.push("model-serving".into());
    Dashboard {
        id: None,
        uid: dashboard_uid(app),
        title: format!("Model serving: {} ({})", app.name, app.namespace),
        description:
            "Generated by mlstack from the stack file: edit the stack, not this dashboard.".into(),
        tags,
        timezone: "browser".into(),
        editable: false,
        graph_tooltip: 1,
        schema_version: SCHEMA_VERSION,
        version: 1,
        refresh: spec.grafana.refresh.clone(),
        time: TimeRange {
            from: "now-6h".into(),
            to: "now".into(),
        },
        templating: List { list: Vec::new() },
        annotations: List {
            list: vec![Annotation {
                name: "Firing alerts".into(),
                datasource: datasource(spec),
                enable: true,
                icon_color: "red".into(),
                expr: Selector::new("ALERTS")
                    .eq("alertstate", "firing")
                    .eq("app", &app.name)
                    .to_string(),
                title_format: "{{alertname}}".into(),
                text_format: "{{severity}}".into(),
                step: "60s".into(),
            }],
        },
        links: Vec::new(),
        panels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kafka: bool) -> MonitoringSpec {
        let mut s: MonitoringSpec =
            serde_json::from_str(r#"{"apps": [{"name": "fraud-detection", "namespace": "ml"}]}"#)
                .unwrap();
        if kafka {
            s.kafka = Some(Default::default());
        }
        s
    }

    #[test]
    fn panels_ids_positions_and_datasource() {
        let s = spec(true);
        let d = app_dashboard(&s, &s.apps[0]);
        assert!(d.schema_version >= 39);
        let titles: Vec<_> = d.panels.iter().map(|p| p.title.as_str()).collect();
        for want in [
            "Request rate",
            "Error ratio (5xx)",
            "Latency p50 / p95 / p99",
            "Replicas (min / max)",
            "CPU per replica (share of limit)",
            "Memory per replica",
            "Kafka consumer lag",
            "Predictions by outcome",
            "Model version",
            "Input drift (PSI)",
        ] {
            assert!(titles.contains(&want), "{want}");
        }
        for (i, p) in d.panels.iter().enumerate() {
            assert_eq!(p.id as usize, i + 1);
            assert_eq!(
                (p.grid_pos.x, p.grid_pos.y),
                ((i as u32 % 3) * 8, (i as u32 / 3) * 8)
            );
            assert_eq!(p.datasource.uid, "prometheus");
        }
        let json = d.to_json_string();
        assert!(!json.contains("DS_PROMETHEUS") && json.contains("\"schemaVersion\": 39"));
        assert_eq!(
            json,
            app_dashboard(&s, &s.apps[0]).to_json_string(),
            "deterministic"
        );
        let cpu = d
            .panels
            .iter()
            .find(|p| p.title.starts_with("CPU"))
            .unwrap();
        assert_eq!(
            cpu.field_config.defaults.thresholds.steps[1].value,
            Some(0.8)
        );
        assert_eq!(app_dashboard(&spec(false), &s.apps[0]).panels.len(), 9);
    }

    #[test]
    fn long_names_get_short_stable_uids() {
        let mut a = AppSpec {
            name: "a".repeat(60),
            namespace: "ns".into(),
            ..AppSpec::default()
        };
        let u1 = dashboard_uid(&a);
        assert_eq!(u1.len(), 40);
        a.name.push('b');
        assert_ne!(dashboard_uid(&a), u1);
    }
}
