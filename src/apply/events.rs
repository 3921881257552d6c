//! Apply progress: what started, what is still running and for how long, what finished or
//! failed. Plain lines (one per event) suit both terminals and CI logs; `--json` gives one JSON
//! object per line for CI systems and editors.

use crate::plan::Action;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// One progress event. Never carries a sensitive value.
#[derive(Debug)]
pub enum Event<'a> {
    Start {
        address: &'a str,
        action: Action,
    },
    Progress {
        address: &'a str,
        action: Action,
        elapsed: Duration,
    },
    Done {
        address: &'a str,
        action: Action,
        elapsed: Duration,
        id: Option<&'a str>,
    },
    Failed {
        address: &'a str,
        action: Action,
        message: &'a str,
    },
    Skipped {
        address: &'a str,
        because: &'a str,
    },
    /// A provider's progress line from inside an apply (a rollout step: weight, query values).
    Note {
        address: &'a str,
        message: &'a str,
        detail: &'a serde_json::Value,
    },
}

/// Where events go.
pub trait EventSink: Sync {
    fn emit(&self, event: &Event<'_>);
}

/// Drops every event (library callers, tests).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: &Event<'_>) {}
}

fn ing(a: Action) -> &'static str {
    match a {
        Action::Create => "Creating",
        Action::Update => "Modifying",
        Action::Delete => "Destroying",
        Action::DeleteThenCreate | Action::CreateThenDelete => "Replacing",
        Action::Read => "Reading",
        Action::NoOp => "Refreshing",
    }
}

fn done(a: Action) -> &'static str {
    match a {
        Action::Create => "Creation complete",
        Action::Update => "Modifications complete",
        Action::Delete => "Destruction complete",
        Action::DeleteThenCreate | Action::CreateThenDelete => "Replacement complete",
        Action::Read => "Read complete",
        Action::NoOp => "Refresh complete",
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// Human lines, Terraform style: `db: Creating...`, `db: Still creating... [10s elapsed]`.
pub struct HumanEvents<W: Write + Send> {
    out: Mutex<W>,
    color: bool,
}

impl<W: Write + Send> HumanEvents<W> {
    pub fn new(out: W, color: bool) -> Self {
        HumanEvents {
            out: Mutex::new(out),
            color,
        }
    }

    fn line(&self, text: &str) {
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

impl<W: Write + Send> EventSink for HumanEvents<W> {
    fn emit(&self, e: &Event<'_>) {
        let text = match e {
            Event::Start { address, action } => {
                format!("{}: {}...", self.bold(address), ing(*action))
            }
            Event::Progress {
                address,
                action,
                elapsed,
            } => format!(
                "{}: Still {}... [{} elapsed]",
                self.bold(address),
                ing(*action).to_lowercase(),
                secs(*elapsed)
            ),
            Event::Done {
                address,
                action,
                elapsed,
                id,
            } => {
                let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
                format!(
                    "{}: {} after {}{id}",
                    self.bold(address),
                    done(*action),
                    secs(*elapsed)
                )
            }
            Event::Failed {
                address,
                action,
                message,
            } => {
                let red = if self.color { "\x1b[31m" } else { "" };
                let reset = if self.color { "\x1b[0m" } else { "" };
                format!(
                    "{red}{}: {} failed: {message}{reset}",
                    self.bold(address),
                    ing(*action)
                )
            }
            Event::Skipped { address, because } => {
                format!("{}: Skipped, because {because} failed", self.bold(address))
            }
            Event::Note {
                address, message, ..
            } => format!("{}: {message}", self.bold(address)),
        };
        self.line(&text);
    }
}

/// One JSON object per line: `{"type":"apply_start","address":...}`.
pub struct JsonEvents<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonEvents<W> {
    pub fn new(out: W) -> Self {
        JsonEvents {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send> EventSink for JsonEvents<W> {
    fn emit(&self, e: &Event<'_>) {
        let v = match e {
            Event::Start { address, action } => serde_json::json!({
                "type": "apply_start", "address": address, "actions": action.json_actions()
            }),
            Event::Progress {
                address,
                action,
                elapsed,
            } => serde_json::json!({
                "type": "apply_progress", "address": address, "actions": action.json_actions(),
                "elapsed_seconds": elapsed.as_secs()
            }),
            Event::Done {
                address,
                action,
                elapsed,
                id,
            } => serde_json::json!({
                "type": "apply_complete", "address": address, "actions": action.json_actions(),
                "elapsed_seconds": elapsed.as_secs_f64(), "id": id
            }),
            Event::Failed {
                address,
                action,
                message,
            } => serde_json::json!({
                "type": "apply_errored", "address": address, "actions": action.json_actions(),
                "message": message
            }),
            Event::Skipped { address, because } => serde_json::json!({
                "type": "apply_skipped", "address": address, "because": because
            }),
            Event::Note {
                address,
                message,
                detail,
            } => serde_json::json!({
                "type": "apply_note", "address": address, "message": message, "detail": detail
            }),
        };
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
    }
}
