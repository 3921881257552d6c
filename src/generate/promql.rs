//! A small PromQL expression builder: selectors with label matchers, the functions and
//! aggregations our rules and dashboards use, and binary operators with vector matching.
//! Expressions are values, so alerts and dashboard panels share them; printing is deterministic
//! and parenthesises every nested binary expression, so precedence never surprises a reader.

use super::duration::PromDuration;
use std::fmt;

/// How a label matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// `label op "value"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

/// `metric{matchers}`; matchers print in the order they were added.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub metric: String,
    pub matchers: Vec<Matcher>,
}

impl Selector {
    pub fn new(metric: impl Into<String>) -> Self {
        Selector {
            metric: metric.into(),
            matchers: Vec::new(),
        }
    }

    fn with(mut self, label: &str, op: MatchOp, value: &str) -> Self {
        self.matchers.push(Matcher {
            label: label.to_string(),
            op,
            value: value.to_string(),
        });
        self
    }

    pub fn eq(self, label: &str, value: &str) -> Self {
        self.with(label, MatchOp::Eq, value)
    }

    pub fn ne(self, label: &str, value: &str) -> Self {
        self.with(label, MatchOp::Ne, value)
    }

    pub fn re(self, label: &str, value: &str) -> Self {
        self.with(label, MatchOp::Re, value)
    }

    pub fn not_re(self, label: &str, value: &str) -> Self {
        self.with(label, MatchOp::NotRe, value)
    }

    /// The instant vector `metric{...}`.
    pub fn vector(self) -> Expr {
        Expr::Vector(self)
    }

    /// The range vector `metric{...}[window]`.
    pub fn range(self, window: Window) -> Expr {
        Expr::Matrix(self, window)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if self.matchers.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "{}{}{}",
                m.label,
                m.op.as_str(),
                string_literal(&m.value)
            )?;
        }
        f.write_str("}")
    }
}

/// A range-vector window: fixed for rules, Grafana's `$__rate_interval` for dashboards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    Fixed(PromDuration),
    GrafanaRateInterval,
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Fixed(d) => write!(f, "{d}"),
            Window::GrafanaRateInterval => f.write_str("$__rate_interval"),
        }
    }
}

/// The PromQL functions we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Rate,
    Increase,
    HistogramQuantile,
    ClampMin,
    Absent,
    Vector,
    MaxOverTime,
}

impl Func {
    pub fn name(self) -> &'static str {
        match self {
            Func::Rate => "rate",
            Func::Increase => "increase",
            Func::HistogramQuantile => "histogram_quantile",
            Func::ClampMin => "clamp_min",
            Func::Absent => "absent",
            Func::Vector => "vector",
            Func::MaxOverTime => "max_over_time",
        }
    }
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Max,
    Min,
    Avg,
    Count,
}

impl AggOp {
    pub fn name(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Max => "max",
            AggOp::Min => "min",
            AggOp::Avg => "avg",
            AggOp::Count => "count",
        }
    }
}

/// Binary operators; comparisons filter (no `bool` modifier is needed by our rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }
}

/// `group_left(...)` / `group_right(...)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    Left(Vec<String>),
    Right(Vec<String>),
}

/// `on(...)` / `ignoring(...)` with an optional group modifier.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    pub on: bool,
    pub labels: Vec<String>,
    pub group: Option<Group>,
}

/// A PromQL expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Vector(Selector),
    Matrix(Selector, Window),
    Number(f64),
    Call(Func, Vec<Expr>),
    Aggregate {
        op: AggOp,
        by: Vec<String>,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        matching: Option<VectorMatching>,
    },
}

fn labels(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `rate(sel[window])`.
pub fn rate(sel: Selector, window: Window) -> Expr {
    Expr::Call(Func::Rate, vec![sel.range(window)])
}

/// `increase(sel[window])`.
pub fn increase(sel: Selector, window: Window) -> Expr {
    Expr::Call(Func::Increase, vec![sel.range(window)])
}

/// `max_over_time(sel[window])`.
pub fn max_over_time(sel: Selector, window: Window) -> Expr {
    Expr::Call(Func::MaxOverTime, vec![sel.range(window)])
}

/// `histogram_quantile(q, expr)`; `expr` must keep the `le` label.
pub fn histogram_quantile(q: f64, expr: Expr) -> Expr {
    Expr::Call(Func::HistogramQuantile, vec![Expr::Number(q), expr])
}

/// `clamp_min(expr, min)`.
pub fn clamp_min(expr: Expr, min: f64) -> Expr {
    Expr::Call(Func::ClampMin, vec![expr, Expr::Number(min)])
}

/// `absent(sel)`: one sample carrying `sel`'s equality matchers when nothing matches.
pub fn absent(sel: Selector) -> Expr {
    Expr::Call(Func::Absent, vec![sel.vector()])
}

/// `vector(n)`.
pub fn vector(n: f64) -> Expr {
    Expr::Call(Func::Vector, vec![Expr::Number(n)])
}

fn aggregate(op: AggOp, by: &[&str], expr: Expr) -> Expr {
    Expr::Aggregate {
        op,
        by: labels(by),
        expr: Box::new(expr),
    }
}

/// `sum by (labels) (expr)`; an empty list prints `sum(expr)`.
pub fn sum_by(by: &[&str], expr: Expr) -> Expr {
    aggregate(AggOp::Sum, by, expr)
}

/// `max by (labels) (expr)`.
pub fn max_by(by: &[&str], expr: Expr) -> Expr {
    aggregate(AggOp::Max, by, expr)
}

/// `min by (labels) (expr)`.
pub fn min_by(by: &[&str], expr: Expr) -> Expr {
    aggregate(AggOp::Min, by, expr)
}

impl Expr {
    fn binary(self, op: BinOp, rhs: Expr) -> Expr {
        Expr::Binary {
            op,
            lhs: Box::new(self),
            rhs: Box::new(rhs),
            matching: None,
        }
    }

    pub fn and(self, rhs: Expr) -> Expr {
        self.binary(BinOp::And, rhs)
    }

    pub fn or(self, rhs: Expr) -> Expr {
        self.binary(BinOp::Or, rhs)
    }

    pub fn unless(self, rhs: Expr) -> Expr {
        self.binary(BinOp::Unless, rhs)
    }

    /// `self > threshold`.
    pub fn gt(self, threshold: f64) -> Expr {
        self.binary(BinOp::Gt, Expr::Number(threshold))
    }

    /// `self >= threshold`.
    pub fn ge(self, threshold: f64) -> Expr {
        self.binary(BinOp::Ge, Expr::Number(threshold))
    }

    /// `self < threshold`.
    pub fn lt(self, threshold: f64) -> Expr {
        self.binary(BinOp::Lt, Expr::Number(threshold))
    }

    /// `self == value`.
    pub fn eq_num(self, value: f64) -> Expr {
        self.binary(BinOp::Eq, Expr::Number(value))
    }

    /// Adds `on(labels)` to a binary expression (no effect on other expressions).
    pub fn on(self, on: &[&str]) -> Expr {
        self.matching(true, on)
    }

    /// Adds `ignoring(labels)` to a binary expression.
    pub fn ignoring(self, ignoring: &[&str]) -> Expr {
        self.matching(false, ignoring)
    }

    fn matching(self, on: bool, list: &[&str]) -> Expr {
        match self {
            Expr::Binary {
                op,
                lhs,
                rhs,
                matching,
            } => Expr::Binary {
                op,
                lhs,
                rhs,
                matching: Some(VectorMatching {
                    on,
                    labels: labels(list),
                    group: matching.and_then(|m| m.group),
                }),
            },
            other => other,
        }
    }

    /// Adds `group_left(labels)` (many-to-one, labels copied from the right side).
    pub fn group_left(self, extra: &[&str]) -> Expr {
        self.group(Group::Left(labels(extra)))
    }

    /// Adds `group_right(labels)`.
    pub fn group_right(self, extra: &[&str]) -> Expr {
        self.group(Group::Right(labels(extra)))
    }

    fn group(self, group: Group) -> Expr {
        match self {
            Expr::Binary {
                op,
                lhs,
                rhs,
                matching,
            } => {
                let mut m = matching.unwrap_or(VectorMatching {
                    on: false,
                    labels: Vec::new(),
                    group: None,
                });
                m.group = Some(group);
                Expr::Binary {
                    op,
                    lhs,
                    rhs,
                    matching: Some(m),
                }
            }
            other => other,
        }
    }
}

macro_rules! arithmetic {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        /// Arithmetic builds a binary expression: `a / b` is PromQL `a / b`.
        impl std::ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                self.binary(BinOp::$op, rhs)
            }
        }
    )*};
}

arithmetic!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div);

/// A PromQL double-quoted string literal.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as PromQL reads it (`0.8`, `1000`, `NaN`, `+Inf`).
pub fn number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{n}")
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[String]) -> fmt::Result {
    f.write_str("(")?;
    f.write_str(&items.join(", "))?;
    f.write_str(")")
}

fn operand(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        Expr::Binary { .. } => write!(f, "({e})"),
        Expr::Number(n) if *n < 0.0 => write!(f, "({e})"),
        _ => write!(f, "{e}"),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Vector(s) => write!(f, "{s}"),
            Expr::Matrix(s, w) => write!(f, "{s}[{w}]"),
            Expr::Number(n) => f.write_str(&number(*n)),
            Expr::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Aggregate { op, by, expr } => {
                f.write_str(op.name())?;
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    list(f, by)?;
                    f.write_str(" ")?;
                }
                write!(f, "({expr})")
            }
            Expr::Binary {
                op,
                lhs,
                rhs,
                matching,
            } => {
                operand(f, lhs)?;
                write!(f, " {}", op.symbol())?;
                if let Some(m) = matching {
                    f.write_str(if m.on { " on" } else { " ignoring" })?;
                    list(f, &m.labels)?;
                    match &m.group {
                        Some(Group::Left(l)) => {
                            f.write_str(" group_left")?;
                            list(f, l)?;
                        }
                        Some(Group::Right(l)) => {
                            f.write_str(" group_right")?;
                            list(f, l)?;
                        }
                        None => {}
                    }
                }
                f.write_str(" ")?;
                operand(f, rhs)
            }
        }
    }
}

/// True for a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// True for a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not reserved `__` names).
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

/// `s` as a literal inside an RE2 regular expression (only metacharacters are escaped, so
/// names like `fraud-detection` stay readable).
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regular expression matching exactly one of `names` (each taken literally).
pub fn any_of(names: &[String]) -> String {
    let mut sorted: Vec<String> = names.iter().map(|n| regex_escape(n)).collect();
    sorted.sort();
    sorted.dedup();
    sorted.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five() -> Window {
        Window::Fixed(PromDuration::minutes(5))
    }

    #[test]
    fn prints_selectors_and_escapes() {
        let s = Selector::new("http_requests_total")
            .eq("job", "a\"b")
            .ne("container", "")
            .re("status", "5..")
            .not_re("pod", "x\\.y");
        assert_eq!(
            s.to_string(),
            r#"http_requests_total{job="a\"b", container!="", status=~"5..", pod!~"x\\.y"}"#
        );
    }

    #[test]
    fn ratio_with_matching_and_threshold() {
        let num = sum_by(
            &["namespace"],
            rate(Selector::new("a").re("status", "5.."), five()),
        );
        let den = sum_by(&["namespace"], rate(Selector::new("a"), five()));
        let e = (num / den).on(&["namespace"]).gt(0.05);
        assert_eq!(
            e.to_string(),
            r#"(sum by (namespace) (rate(a{status=~"5.."}[5m])) / on(namespace) sum by (namespace) (rate(a[5m]))) > 0.05"#
        );
    }

    #[test]
    fn group_left_and_functions() {
        let e = (Selector::new("x").vector() * Selector::new("info").vector())
            .on(&["pod"])
            .group_left(&["version"]);
        assert_eq!(e.to_string(), "x * on(pod) group_left(version) info");
        let q = histogram_quantile(
            0.95,
            sum_by(
                &["le"],
                rate(Selector::new("h_bucket"), Window::GrafanaRateInterval),
            ),
        );
        assert_eq!(
            q.to_string(),
            "histogram_quantile(0.95, sum by (le) (rate(h_bucket[$__rate_interval])))"
        );
        assert_eq!(
            clamp_min(Selector::new("l").vector(), 0.0).to_string(),
            "clamp_min(l, 0)"
        );
        assert_eq!(sum_by(&[], vector(1.0)).to_string(), "sum(vector(1))");
    }

    #[test]
    fn names_and_regex() {
        assert!(is_metric_name("kafka_consumergroup_lag") && is_metric_name("a:b"));
        assert!(!is_metric_name("1a") && !is_metric_name("a-b") && !is_metric_name(""));
        assert!(
            is_label_name("consumergroup") && !is_label_name("a:b") && !is_label_name("__name__")
        );
        assert_eq!(any_of(&["b.c".into(), "a".into(), "a".into()]), "a|b\\.c");
    }
}
