//! The generated promtool scenarios: for every alert a firing case and cases that must stay
//! silent — just over and just under each threshold (from the spec), at the maximum replica
//! count and below it, a short spike that ends before `for`, Kafka partitions at -1, series of
//! other pods, containers and jobs that must not be counted, and the Watchdog always firing.
//!
//! Values just over/under a threshold have three significant digits, so Prometheus prints them
//! exactly and the expected annotations can be stated exactly.

use super::alerts::{app_rule_file, kafka_rule_file, KAFKA_ALERT};
use super::pipeline::{pipeline_metric, pipeline_rule_file};
use super::promql::Selector;
use super::rules::{Alert, RuleFile};
use super::spec::{AppSpec, KafkaSpec, MonitoringSpec};
use super::unittest::{counter, gauge, ExpAlert, TestFile, TestGroup};

/// `(k, p)` with `k` three digits and `k * 10^p` the nearest such value at or beyond `x`
/// (rounding up when `up`, down otherwise).
fn sig3(x: f64, up: bool) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let e = x.log10().floor() as i32 - 2;
    let scaled = x / 10f64.powi(e);
    let k = if up { scaled.ceil() } else { scaled.floor() };
    if e < 0 {
        k / 10f64.powi(-e)
    } else {
        k * 10f64.powi(e)
    }
}

/// A value just over `thr` (about 2 % above), exact at three significant digits.
pub fn just_over(thr: f64) -> f64 {
    let v = sig3(thr * 1.02, true);
    if v > thr {
        v
    } else {
        sig3(thr * 1.03, true)
    }
}

/// A value just under `thr` (about 2 % below).
pub fn just_under(thr: f64) -> f64 {
    sig3(thr * 0.98, false)
}

/// `ratio` as `(numerator, denominator)` per minute with a power-of-ten denominator.
fn per_minute_fraction(ratio: f64) -> (f64, f64) {
    let mut den = 1000.0;
    while (ratio * den).fract().abs() > 1e-6 && den < 1e12 {
        den *= 10.0;
    }
    ((ratio * den).round(), den)
}

fn find<'a>(file: &'a RuleFile, name: &str) -> &'a Alert {
    file.alerts()
        .find(|a| a.name == name)
        .unwrap_or_else(|| unreachable!("generated rule file lacks {name}"))
}

struct App<'a> {
    app: &'a AppSpec,
    rules: RuleFile,
    p1: String,
    p2: String,
}

/// The CPU limit (cores) the scenarios give each replica.
const LIMIT: f64 = 0.5;

impl<'a> App<'a> {
    fn alert(&self, name: &str) -> &Alert {
        find(&self.rules, name)
    }

    fn ns(&self) -> &str {
        &self.app.namespace
    }

    fn container_sel(&self, metric: &str, pod: &str, container: &str) -> Selector {
        Selector::new(metric)
            .eq("namespace", self.ns())
            .eq("pod", pod)
            .eq("container", container)
    }

    fn cpu(&self, pod: &str, container: &str, segments: &[(f64, u64)]) -> (Selector, String) {
        let sel = self
            .container_sel("container_cpu_usage_seconds_total", pod, container)
            .eq("image", "registry.example.org/model:1")
            .eq("instance", "node-1")
            .eq("job", "kubelet");
        (
            sel,
            counter(
                &segments
                    .iter()
                    .map(|&(cores, m)| (cores * 60.0, m))
                    .collect::<Vec<_>>(),
            ),
        )
    }

    fn limit(&self, pod: &str, container: &str, resource: &str, value: f64) -> (Selector, String) {
        let sel = self
            .container_sel("kube_pod_container_resource_limits", pod, container)
            .eq("resource", resource)
            .eq("unit", if resource == "cpu" { "core" } else { "byte" })
            .eq("node", "node-1")
            .eq("uid", "0b6c1f5e")
            .eq("job", "kube-state-metrics")
            .eq("instance", "kube-state-metrics:8080");
        (sel, gauge(&[(value, 31)]))
    }

    fn hpa(&self, segments: &[(f64, u64)]) -> (Selector, String) {
        let sel = Selector::new("kube_horizontalpodautoscaler_status_current_replicas")
            .eq("namespace", self.ns())
            .eq("horizontalpodautoscaler", self.app.hpa())
            .eq("job", "kube-state-metrics")
            .eq("instance", "kube-state-metrics:8080");
        (sel, gauge(segments))
    }

    fn with(group: TestGroup, s: (Selector, String)) -> TestGroup {
        group.series(s.0, s.1)
    }

    /// Every replica's CPU limit, plus a memory limit and a sidecar's limit that must not count.
    fn limits(&self, mut g: TestGroup) -> TestGroup {
        let c = self.app.container();
        for pod in [&self.p1, &self.p2] {
            g = Self::with(g, self.limit(pod, c, "cpu", LIMIT));
        }
        g = Self::with(g, self.limit(&self.p1, c, "memory", 1_073_741_824.0));
        Self::with(g, self.limit(&self.p1, "sidecar", "cpu", 0.1))
    }

    fn cpu_exp(&self, name: &str, pod: &str, ratio: f64) -> ExpAlert {
        ExpAlert::of(
            self.alert(name),
            &[("namespace", self.ns()), ("pod", pod)],
            ratio,
        )
    }

    fn hpa_exp(&self, name: &str) -> ExpAlert {
        ExpAlert::of(
            self.alert(name),
            &[
                ("namespace", self.ns()),
                ("horizontalpodautoscaler", self.app.hpa()),
            ],
            f64::from(self.app.max_replicas),
        )
    }

    fn ns_exp(&self, name: &str, value: f64) -> ExpAlert {
        ExpAlert::of(self.alert(name), &[("namespace", self.ns())], value)
    }

    fn cpu_groups(&self) -> Vec<TestGroup> {
        let a = self.app;
        let c = a.container();
        let (over, under, spike) = (
            just_over(a.cpu_threshold),
            just_under(a.cpu_threshold),
            a.cpu_threshold * 1.4,
        );
        let max = f64::from(a.max_replicas);
        let canary = format!("{}-canary-5d8f7c9b4-w3n8r", a.deployment());

        let mut g = TestGroup::new(format!(
            "{}: CPU just over the threshold on one replica, HPA below its maximum",
            a.name
        ));
        g = Self::with(g, self.cpu(&self.p1, c, &[(over * LIMIT, 30)]));
        g = Self::with(g, self.cpu(&self.p2, c, &[(under * LIMIT, 30)]));
        // Not the serving container: the pod-level cgroup, a sidecar, a canary Deployment's pod.
        g = Self::with(g, self.cpu(&self.p1, "", &[(2.0, 30)]));
        g = Self::with(g, self.cpu(&self.p1, "sidecar", &[(1.0, 30)]));
        g = Self::with(g, self.cpu(&canary, c, &[(1.0, 30)]));
        g = Self::with(g, self.limit(&canary, c, "cpu", LIMIT));
        g = self.limits(g);
        g = Self::with(g, self.hpa(&[(max - 1.0, 31)]));
        let high_cpu = g
            .expect(4, "HighCPUUsage", vec![])
            .expect(
                10,
                "HighCPUUsage",
                vec![self.cpu_exp("HighCPUUsage", &self.p1, over)],
            )
            .expect(10, "ModelOverloadedAtMaxReplicas", vec![])
            .expect(10, "ModelScaledToMax", vec![]);

        let mut g = TestGroup::new(format!("{}: CPU just under the threshold", a.name));
        g = Self::with(g, self.cpu(&self.p1, c, &[(under * LIMIT, 30)]));
        g = self.limits(g);
        g = Self::with(g, self.hpa(&[(max, 31)]));
        let under_g = g
            .expect(10, "HighCPUUsage", vec![])
            .expect(20, "HighCPUUsage", vec![])
            .expect(10, "ModelOverloadedAtMaxReplicas", vec![])
            .expect(
                10,
                "ModelScaledToMax",
                vec![self.hpa_exp("ModelScaledToMax")],
            );

        let mut g = TestGroup::new(format!(
            "{}: at the maximum of {} replicas with CPU over the threshold",
            a.name, a.max_replicas
        ));
        g = Self::with(g, self.cpu(&self.p1, c, &[(over * LIMIT, 30)]));
        g = self.limits(g);
        g = Self::with(g, self.hpa(&[(max, 31)]));
        let at_max = g
            .expect(0, "ModelScaledToMax", vec![])
            .expect(
                2,
                "ModelScaledToMax",
                vec![self.hpa_exp("ModelScaledToMax")],
            )
            .expect(4, "ModelOverloadedAtMaxReplicas", vec![])
            .expect(
                10,
                "ModelOverloadedAtMaxReplicas",
                vec![self.hpa_exp("ModelOverloadedAtMaxReplicas")],
            );

        let mut g = TestGroup::new(format!(
            "{}: a 2-minute CPU spike and a 1-sample visit to the maximum do not fire",
            a.name
        ));
        g = Self::with(g, self.cpu(&self.p1, c, &[(spike * LIMIT, 2), (0.0, 28)]));
        g = self.limits(g);
        g = Self::with(g, self.hpa(&[(max, 1), (max - 1.0, 30)]));
        let spike_g = g
            .silent(0..=12, "HighCPUUsage")
            .silent(0..=12, "ModelOverloadedAtMaxReplicas")
            .silent(0..=5, "ModelScaledToMax");

        vec![high_cpu, under_g, at_max, spike_g]
    }

    fn requests(&self, job: &str, status: &str, segments: &[(f64, u64)]) -> (Selector, String) {
        let sel = Selector::new(&self.app.requests_metric)
            .eq("job", job)
            .eq("namespace", self.ns())
            .eq(&self.app.status_label, status)
            .eq("handler", "/predict")
            .eq("method", "POST")
            .eq("instance", "10.0.0.11:8000");
        (sel, counter(segments))
    }

    /// Traffic with `errors` 5xx out of `total` per minute (split 500/503, with some 404s).
    fn traffic(&self, mut g: TestGroup, phases: &[(f64, f64, u64)]) -> TestGroup {
        let job = self.app.job();
        let seg = |f: &dyn Fn(f64, f64) -> f64| {
            phases
                .iter()
                .map(|&(e, t, m)| (f(e, t), m))
                .collect::<Vec<_>>()
        };
        let e500 = seg(&|e, _| (e / 2.0).floor());
        let e503 = seg(&|e, _| e - (e / 2.0).floor());
        let e404 = seg(&|e, t| ((t - e) / 10.0).floor());
        let ok = seg(&|e, t| t - e - ((t - e) / 10.0).floor());
        for (status, s) in [("200", ok), ("404", e404), ("500", e500), ("503", e503)] {
            g = Self::with(g, self.requests(job, status, &s));
        }
        // Another app's errors in the same namespace must not count.
        Self::with(
            g,
            self.requests(&format!("{job}-shadow"), "500", &[(1000.0, 30)]),
        )
    }

    fn error_groups(&self) -> Vec<TestGroup> {
        let a = self.app;
        let thr = a.error_rate_threshold;
        let over = just_over(thr).min(1.0);
        let (e_over, t_over) = per_minute_fraction(over);
        let (e_under, t_under) = per_minute_fraction(just_under(thr));
        let (e_spike, t_spike) = per_minute_fraction(just_over(thr * 1.4).min(1.0));
        let g = TestGroup::new(format!("{}: 5xx just over the threshold", a.name));
        let over_g = self
            .traffic(g, &[(e_over, t_over, 30)])
            .expect(4, "HighErrorRate", vec![])
            .expect(
                10,
                "HighErrorRate",
                vec![self.ns_exp("HighErrorRate", e_over / t_over)],
            );
        let g = TestGroup::new(format!("{}: 5xx just under the threshold", a.name));
        let under_g = self
            .traffic(g, &[(e_under, t_under, 30)])
            .expect(10, "HighErrorRate", vec![])
            .expect(20, "HighErrorRate", vec![]);
        let g = TestGroup::new(format!("{}: a 2-minute burst of 5xx does not fire", a.name));
        let spike_g = self
            .traffic(g, &[(e_spike, t_spike, 2), (0.0, t_spike, 28)])
            .silent(0..=12, "HighErrorRate");
        vec![over_g, under_g, spike_g]
    }

    /// Histogram buckets: `(le, per-minute segments)` per instance.
    fn histogram(
        &self,
        mut g: TestGroup,
        job: &str,
        buckets: &[(String, Vec<(f64, u64)>)],
    ) -> TestGroup {
        let metric = format!("{}_bucket", self.app.latency_histogram);
        let instances: &[&str] = if job == self.app.job() {
            &["10.0.0.11:8000", "10.0.0.12:8000"]
        } else {
            &["10.0.0.21:8000"]
        };
        for instance in instances {
            for (le, segments) in buckets {
                let sel = Selector::new(&metric)
                    .eq("job", job)
                    .eq("namespace", self.ns())
                    .eq("handler", "/predict")
                    .eq("instance", instance)
                    .eq("le", le);
                g = g.series(sel, counter(segments));
            }
        }
        g
    }

    fn latency_groups(&self) -> Vec<TestGroup> {
        let a = self.app;
        let thr = a.latency_p95_seconds;
        let le = |v: f64| format!("{v}");
        // p95 lands on the upper bound `v` of the bucket holding the slowest 45 %.
        let steady = |v: f64| {
            vec![
                (le(v / 10.0), vec![(50.0, 30)]),
                (le(v), vec![(95.0, 30)]),
                ("+Inf".to_string(), vec![(100.0, 30)]),
            ]
        };
        let mut over = just_over(thr);
        if over >= 60.0 && over.fract() == 0.0 {
            over += 0.5; // keep clear of humanizeDuration's truncation to whole seconds
        }
        let under = just_under(thr);
        let shadow = vec![
            (le(over / 10.0), vec![(0.0, 30)]),
            (le(over), vec![(0.0, 30)]),
            (le(over * 10.0), vec![(100.0, 30)]),
            ("+Inf".to_string(), vec![(100.0, 30)]),
        ];
        let g = TestGroup::new(format!("{}: p95 latency just over the threshold", a.name));
        let g = self.histogram(g, a.job(), &steady(over));
        let over_g = self
            .histogram(g, &format!("{}-shadow", a.job()), &shadow)
            .expect(4, "HighResponseTime", vec![])
            .expect(
                10,
                "HighResponseTime",
                vec![self.ns_exp("HighResponseTime", over)],
            );
        let g = TestGroup::new(format!("{}: p95 latency just under the threshold", a.name));
        let under_g = self
            .histogram(g, a.job(), &steady(under))
            .expect(10, "HighResponseTime", vec![])
            .expect(20, "HighResponseTime", vec![]);
        // 7 % slow requests for 2 minutes, then none: p95 is over the threshold for 2 minutes.
        let spike = vec![
            (le(thr / 10.0), vec![(93.0, 2), (100.0, 28)]),
            (le(thr / 2.0), vec![(93.0, 2), (100.0, 28)]),
            (le(thr * 4.0), vec![(100.0, 30)]),
            ("+Inf".to_string(), vec![(100.0, 30)]),
        ];
        let g = TestGroup::new(format!(
            "{}: a 2-minute latency spike does not fire",
            a.name
        ));
        let spike_g = self
            .histogram(g, a.job(), &spike)
            .silent(0..=12, "HighResponseTime");
        vec![over_g, under_g, spike_g]
    }

    fn ready(&self, segments: &[(f64, u64)]) -> (Selector, String) {
        let sel = Selector::new("kube_deployment_status_replicas_ready")
            .eq("namespace", self.ns())
            .eq("deployment", self.app.deployment())
            .eq("job", "kube-state-metrics")
            .eq("instance", "kube-state-metrics:8080");
        (sel, gauge(segments))
    }

    fn up(&self, job: &str, pod: &str, instance: &str, value: f64) -> (Selector, String) {
        let sel = Selector::new("up")
            .eq("job", job)
            .eq("namespace", self.ns())
            .eq("pod", pod)
            .eq("instance", instance);
        (sel, gauge(&[(value, 11)]))
    }

    fn down_groups(&self) -> Vec<TestGroup> {
        let a = self.app;
        let min = f64::from(a.min_replicas);
        let job = a.job();
        let down = || vec![self.ns_exp("ModelDown", 0.0)];
        let fires = |g: TestGroup| {
            g.expect(1, "ModelDown", vec![])
                .expect(5, "ModelDown", down())
        };
        let t1 = self.up(job, &self.p1, "10.0.0.11:8000", 1.0);
        let t2 = |v| self.up(job, &self.p2, "10.0.0.12:8000", v);

        let g = TestGroup::new(format!("{}: no ready replica", a.name));
        let g = Self::with(Self::with(g, self.ready(&[(0.0, 11)])), t1.clone());
        let no_ready = fires(g);

        let g = TestGroup::new(format!("{}: every scrape target down", a.name));
        let g = Self::with(g, self.ready(&[(min, 11)]));
        let g = Self::with(
            Self::with(g, self.up(job, &self.p1, "10.0.0.11:8000", 0.0)),
            t2(0.0),
        );
        let targets_down = fires(g);

        let g = TestGroup::new(format!("{}: no scrape target at all", a.name));
        let g = Self::with(g, self.ready(&[(min, 11)]));
        let g = Self::with(
            g,
            self.up(&format!("{job}-shadow"), &self.p1, "10.0.0.21:8000", 1.0),
        );
        let no_target = fires(g);

        let g = TestGroup::new(format!("{}: one target down of two is not down", a.name));
        let g = Self::with(
            Self::with(Self::with(g, self.ready(&[(min, 11)])), t1.clone()),
            t2(0.0),
        );
        let one_down = g.silent(0..=10, "ModelDown");

        let g = TestGroup::new(format!("{}: a 1-minute restart does not fire", a.name));
        let g = Self::with(Self::with(g, self.ready(&[(0.0, 1), (min, 10)])), t1);
        let restart = g.silent(0..=10, "ModelDown");

        vec![no_ready, targets_down, no_target, one_down, restart]
    }

    fn drift(
        &self,
        job: &str,
        pod: &str,
        feature: &str,
        segments: &[(f64, u64)],
    ) -> (Selector, String) {
        let sel = Selector::new(&self.app.drift_metric)
            .eq("job", job)
            .eq("namespace", self.ns())
            .eq("pod", pod)
            .eq(&self.app.feature_label, feature)
            .eq("instance", "10.0.0.11:8000");
        (sel, gauge(segments))
    }

    fn drift_groups(&self) -> Vec<TestGroup> {
        let a = self.app;
        let thr = a.drift_threshold;
        let (over, under) = (just_over(thr), just_under(thr));
        let job = a.job();
        let shadow = format!("{job}-shadow");
        let exp = |feature: &str, v: f64| {
            ExpAlert::of(
                self.alert("ModelInputDrift"),
                &[
                    ("namespace", self.ns()),
                    (a.feature_label.as_str(), feature),
                ],
                v,
            )
        };

        // One replica just over on `amount`, the other just under; `hour` under everywhere;
        // another job's gauge far over must not count.
        let g = TestGroup::new(format!(
            "{}: input drift just over the threshold on one feature",
            a.name
        ));
        let g = Self::with(g, self.drift(job, &self.p1, "amount", &[(over, 31)]));
        let g = Self::with(g, self.drift(job, &self.p2, "amount", &[(under, 31)]));
        let g = Self::with(g, self.drift(job, &self.p1, "hour", &[(under, 31)]));
        let g = Self::with(
            g,
            self.drift(&shadow, &self.p1, "hour", &[(thr * 10.0, 31)]),
        );
        let over_g = g.expect(10, "ModelInputDrift", vec![]).expect(
            20,
            "ModelInputDrift",
            vec![exp("amount", over)],
        );

        let g = TestGroup::new(format!("{}: input drift just under the threshold", a.name));
        let g = Self::with(g, self.drift(job, &self.p1, "amount", &[(under, 31)]));
        let under_g = g
            .expect(20, "ModelInputDrift", vec![])
            .expect(30, "ModelInputDrift", vec![]);

        let g = TestGroup::new(format!(
            "{}: 10 minutes of drift that recedes does not fire",
            a.name
        ));
        let g = Self::with(
            g,
            self.drift(job, &self.p1, "amount", &[(thr * 4.0, 10), (under, 21)]),
        );
        let spike_g = g.silent(0..=30, "ModelInputDrift");
        vec![over_g, under_g, spike_g]
    }
}

/// The unit tests of one app's rule file.
pub fn app_tests(spec: &MonitoringSpec, app: &AppSpec) -> TestFile {
    let rules = app_rule_file(spec, app);
    let file = rules.path.trim_start_matches("rules/").to_string();
    let a = App {
        app,
        p1: format!("{}-5d8f7c9b4-k2x7q", app.deployment()),
        p2: format!("{}-5d8f7c9b4-p9m4z", app.deployment()),
        rules,
    };
    let mut groups = a.cpu_groups();
    groups.extend(a.error_groups());
    groups.extend(a.latency_groups());
    groups.extend(a.down_groups());
    groups.extend(a.drift_groups());
    TestFile {
        path: format!("rules/tests/{}.test.yaml", a.rules.name),
        rule_files: vec![format!("../{file}")],
        groups,
    }
}

fn lag(group: &str, topic: &str, partition: &str, segments: &[(f64, u64)]) -> (Selector, String) {
    let sel = Selector::new("kafka_consumergroup_lag")
        .eq("namespace", "kafka")
        .eq("consumergroup", group)
        .eq("topic", topic)
        .eq("partition", partition)
        .eq("job", "kafka-exporter")
        .eq("instance", "kafka-exporter:9308");
    (sel, gauge(segments))
}

/// The unit tests of the Kafka rule file.
pub fn kafka_tests(spec: &MonitoringSpec, k: &KafkaSpec) -> TestFile {
    let rules = kafka_rule_file(spec, k);
    let alert = find(&rules, KAFKA_ALERT);
    let group = k
        .consumer_groups
        .first()
        .cloned()
        .unwrap_or_else(|| "fraud-scorer".into());
    let topic = k
        .topics
        .first()
        .cloned()
        .unwrap_or_else(|| "transactions".into());
    let thr = k.lag_threshold as f64;
    let partitions = |g: TestGroup, name: &str, total: f64| {
        let a = (total / 2.0).ceil();
        [("0", a), ("1", total - a), ("2", -1.0)]
            .into_iter()
            .fold(g, |g, (p, v)| {
                let (s, vals) = lag(name, &topic, p, &[(v, 21)]);
                g.series(s, vals)
            })
    };
    let exp = ExpAlert::of(
        alert,
        &[
            ("namespace", "kafka"),
            ("consumergroup", &group),
            ("topic", &topic),
        ],
        thr + 1.0,
    );

    let over = partitions(
        TestGroup::new("lag just over the threshold, with a partition at -1"),
        &group,
        thr + 1.0,
    )
    .expect(4, KAFKA_ALERT, vec![])
    .expect(10, KAFKA_ALERT, vec![exp]);
    let at = partitions(
        TestGroup::new("lag at the threshold, with a partition at -1"),
        &group,
        thr,
    )
    .expect(10, KAFKA_ALERT, vec![])
    .expect(20, KAFKA_ALERT, vec![]);
    let minus_one =
        ["0", "1", "2"]
            .into_iter()
            .fold(TestGroup::new("every partition at -1"), |g, p| {
                let (s, v) = lag(&group, &topic, p, &[(-1.0, 21)]);
                g.series(s, v)
            });
    let minus_one = minus_one.expect(10, KAFKA_ALERT, vec![]);
    let (s, v) = lag(&group, &topic, "0", &[(thr * 10.0, 2), (0.0, 19)]);
    let spike = TestGroup::new("a 2-minute lag spike does not fire")
        .series(s, v)
        .silent(0..=12, KAFKA_ALERT);
    let mut groups = vec![over, at, minus_one, spike];
    if !k.consumer_groups.is_empty() || !k.topics.is_empty() {
        let mut other = String::from("unwatched-group");
        while k.consumer_groups.contains(&other) {
            other.push('x');
        }
        let mut other_topic = String::from("unwatched-topic");
        while k.topics.contains(&other_topic) {
            other_topic.push('x');
        }
        let (s1, v1) = lag(&other, &topic, "0", &[(thr * 10.0, 21)]);
        let (s2, v2) = lag(&group, &other_topic, "0", &[(thr * 10.0, 21)]);
        let mut g = TestGroup::new("groups and topics outside the filter do not count");
        if !k.consumer_groups.is_empty() {
            g = g.series(s1, v1);
        }
        if !k.topics.is_empty() {
            g = g.series(s2, v2);
        }
        groups.push(g.expect(10, KAFKA_ALERT, vec![]));
    }
    TestFile {
        path: "rules/tests/kafka.test.yaml".into(),
        rule_files: vec!["../kafka.yaml".into()],
        groups,
    }
}

/// The unit tests of the pipeline rule file.
pub fn pipeline_tests(spec: &MonitoringSpec) -> TestFile {
    let rules = pipeline_rule_file(spec);
    let watchdog = find(&rules, "Watchdog");
    let mut groups = vec![TestGroup::new("Watchdog always fires")
        .expect(0, "Watchdog", vec![ExpAlert::of(watchdog, &[], 1.0)])
        .expect(60, "Watchdog", vec![ExpAlert::of(watchdog, &[], 1.0)])];
    for alert in rules.alerts().filter(|a| a.name != "Watchdog") {
        let Some(metric) = pipeline_metric(&alert.name) else {
            continue;
        };
        let prometheus = metric.starts_with("prometheus_");
        let (job, bad_instance, good_instance) = if prometheus {
            ("prometheus", "prometheus-0:9090", "prometheus-1:9090")
        } else {
            ("alertmanager", "alertmanager-0:9093", "alertmanager-1:9093")
        };
        let extra: Option<(&str, &str)> = match alert.name.as_str() {
            "PrometheusRuleEvaluationFailures" => {
                Some(("rule_group", "/etc/prometheus/rules/app.yaml;mlstack.app"))
            }
            "PrometheusNotificationErrors" => {
                Some(("alertmanager", "http://alertmanager:9093/api/v2/alerts"))
            }
            "AlertmanagerNotificationsFailed" => Some(("integration", "email")),
            _ => None,
        };
        let labels = |instance: &'static str| {
            let mut l = vec![
                ("job", job),
                ("instance", instance),
                ("namespace", "monitoring"),
            ];
            l.extend(extra);
            l
        };
        let sel = |instance: &'static str| {
            labels(instance)
                .into_iter()
                .fold(Selector::new(metric), |s, (k, v)| s.eq(k, v))
        };
        let (bad, good) = if metric.ends_with("_total") {
            (counter(&[(1.0, 30)]), counter(&[(0.0, 30)]))
        } else if metric.ends_with("_discovered") {
            (gauge(&[(0.0, 31)]), gauge(&[(2.0, 31)]))
        } else {
            (gauge(&[(0.0, 31)]), gauge(&[(1.0, 31)]))
        };
        let for_min = alert.for_.as_secs() / 60;
        let g = TestGroup::new(format!("{}: one instance failing, one healthy", alert.name))
            .series(sel(bad_instance), bad)
            .series(sel(good_instance), good)
            .expect(for_min.saturating_sub(2), &alert.name, vec![])
            .expect(
                for_min + 5,
                &alert.name,
                vec![ExpAlert::of(alert, &labels(bad_instance), 1.0)],
            );
        groups.push(g);
    }
    TestFile {
        path: "rules/tests/pipeline.test.yaml".into(),
        rule_files: vec!["../pipeline.yaml".into()],
        groups,
    }
}

/// Every generated test file.
pub fn all_tests(spec: &MonitoringSpec) -> Vec<TestFile> {
    let mut out: Vec<TestFile> = spec.apps.iter().map(|a| app_tests(spec, a)).collect();
    if let Some(k) = &spec.kafka {
        out.push(kafka_tests(spec, k));
    }
    out.push(pipeline_tests(spec));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_to_three_digits() {
        assert_eq!(just_over(0.8), 0.816);
        assert_eq!(just_under(0.8), 0.784);
        assert_eq!(just_over(0.05), 0.051);
        assert_eq!(just_under(0.05), 0.049);
        assert_eq!(just_over(2.0), 2.04);
        assert_eq!(just_under(1000.0), 980.0);
        assert!(just_over(0.999_999) > 0.999_999);
        assert_eq!(per_minute_fraction(0.051), (51.0, 1000.0));
        assert_eq!(per_minute_fraction(0.000_102), (102.0, 1_000_000.0));
    }
}

#[cfg(test)]
mod coverage {
    use super::*;
    use crate::generate::rule_files;

    /// Every alert of every rule file has a case where it fires and one where it must not.
    #[test]
    fn every_alert_fires_and_stays_silent_somewhere() {
        let mut spec: MonitoringSpec = serde_json::from_str(
            r#"{"apps": [{"name": "a", "namespace": "n"}], "kafka": {"topics": ["t"]}}"#,
        )
        .unwrap();
        spec.receivers.sysadmin_email = "x@example.org".into();
        let tests = all_tests(&spec);
        for rf in rule_files(&spec) {
            let t = tests
                .iter()
                .find(|t| t.rule_files[0] == format!("../{}", rf.path.trim_start_matches("rules/")))
                .unwrap();
            for alert in rf.alerts() {
                let cases: Vec<_> = t
                    .groups
                    .iter()
                    .flat_map(|g| &g.cases)
                    .filter(|c| c.alertname == alert.name)
                    .collect();
                assert!(
                    cases.iter().any(|c| !c.exp.is_empty()),
                    "{} never fires",
                    alert.name
                );
                if alert.name != "Watchdog" {
                    assert!(
                        cases.iter().any(|c| c.exp.is_empty()),
                        "{} never checked silent",
                        alert.name
                    );
                }
            }
        }
    }
}
