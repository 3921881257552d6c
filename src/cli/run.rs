//! Steps `plan`, `apply` and `destroy` share: opening a session, the plan options from flags,
//! printing a plan, confirming, and executing with Ctrl-C handling.

use super::{CliError, PlanFlags, Ui};
use crate::apply::{ApplyOptions, ApplyReport, EventSink, HumanEvents, JsonEvents};
use crate::plan::{Plan, PlanMode, PlanOptions};
use crate::providers::Registry;
use crate::session::{Session, SessionError};
use crate::stack::Stack;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

impl From<SessionError> for CliError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Diagnostics(d) => CliError::Diagnostics(d),
            SessionError::Message(m) => CliError::Message(m),
        }
    }
}

impl From<crate::plan::PlanError> for CliError {
    fn from(e: crate::plan::PlanError) -> Self {
        CliError::Message(if e.problems.len() == 1 {
            e.to_string()
        } else {
            format!("planning failed:\n  {}", e.problems.join("\n  "))
        })
    }
}

/// The providers for a run. With `--sandbox`, the local sandbox (started when not running)
/// replaces the cloud, and its standalone Kubernetes API replaces every cluster the stack's
/// kubernetes blocks name, except a cluster the stack itself creates (its `host` refers to a
/// resource), which then lives in the sandbox cloud.
pub fn registry(flags: &PlanFlags, stack: &Stack) -> Result<Registry, CliError> {
    let mut r = Registry::builtin();
    let mut kubernetes = None;
    if flags.sandbox {
        let running = running_sandbox()?;
        match &running.cloud {
            Some(c) => r.add(Arc::new(mlstack_provider_yandex::YandexProvider::sandbox(
                &c.endpoint,
                &c.ca_pem,
                &c.oauth_token,
            ))),
            // Never let a --sandbox run reach the real cloud.
            None if stack.providers.values().any(|p| p.type_name == "yandex") => {
                return Err(CliError::Message(
                    "the running sandbox has no cloud API (an older mlstack started it): run `mlstack sandbox down` and try again".into(),
                ))
            }
            None => {}
        }
        if !cluster_from_stack(stack) {
            let k = &running.kubernetes;
            kubernetes = Some(
                mlstack_provider_kubernetes::KubernetesProvider::with_connection(
                    mlstack_provider_kubernetes::Conn::new(&k.endpoint, &k.ca_pem, &k.token),
                ),
            );
        }
    }
    if flags.no_force_conflicts {
        kubernetes = Some(kubernetes.unwrap_or_default().without_force_conflicts());
    }
    if let Some(k) = kubernetes {
        r.add(Arc::new(k));
    }
    Ok(r)
}

/// Whether a kubernetes provider block takes its API server from a resource of the stack.
fn cluster_from_stack(stack: &Stack) -> bool {
    stack.providers.values().any(|p| {
        p.type_name == "kubernetes"
            && matches!(&p.config, crate::stack::Expr::Map(m, _)
                if m.get("host").is_some_and(|(_, e)| !e.references().is_empty()))
    })
}

/// The sandbox of the working directory, started when it is not running.
fn running_sandbox() -> Result<crate::sandbox::Running, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::Message(format!("cannot read the working directory: {e}")))?;
    let dir = crate::sandbox::dir(&cwd);
    match crate::sandbox::running(&dir) {
        Some(r) => Ok(r),
        None => Ok(crate::sandbox::start_detached(&dir, &[])
            .map_err(|e| CliError::Message(format!("cannot start the sandbox: {e}")))?
            .0),
    }
}

/// Opens a session for `operation`, locking unless `--lock=false`.
pub fn open_session(
    stack: Stack,
    flags: &PlanFlags,
    operation: &str,
    lock: bool,
) -> Result<Session, CliError> {
    crate::state::kubernetes::use_sandbox(flags.sandbox);
    let registry = registry(flags, &stack)?;
    Ok(Session::open(
        stack,
        registry,
        operation,
        lock,
        flags.lock_timeout,
    )?)
}

/// Plan options from the flags.
pub fn plan_options(flags: &PlanFlags, mode: PlanMode) -> PlanOptions {
    PlanOptions {
        mode: if flags.refresh_only && mode == PlanMode::Normal {
            PlanMode::RefreshOnly
        } else {
            mode
        },
        targets: flags.targets.clone(),
        replace: flags.replace.clone(),
        parallelism: flags.parallelism,
        allow_delete_all: flags.allow_delete_all,
        sandbox: flags.sandbox,
    }
}

/// Prints the human plan to stdout.
pub fn print_human(plan: &Plan, ui: Ui) {
    print!("{}", crate::plan::render::human(plan, ui.color));
    let _ = std::io::stdout().flush();
}

/// Asks "yes" on the terminal. Without a terminal, confirmation is impossible: an error that
/// names `--auto-approve`.
pub fn confirm(question: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Message(
            "confirmation needed but standard input is not a terminal; review the plan and pass --auto-approve".into(),
        ));
    }
    print!("\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Message(format!("cannot read the answer: {e}")))?;
    Ok(line.trim() == "yes")
}

/// Executes `plan` in `session`: progress to stdout (JSON lines with `json`), Ctrl-C stops
/// scheduling and waits for what is running, state saved after every resource.
pub fn execute(
    rt: &tokio::runtime::Runtime,
    session: &mut Session,
    plan: &Plan,
    parallelism: usize,
    json: bool,
    ui: Ui,
) -> ApplyReport {
    // SIGTERM/SIGHUP while holding a remote lock become this Ctrl-C handling (see state::interrupt).
    let _graceful = crate::state::interrupt::graceful();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let watcher = rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
            eprintln!("\nInterrupt received: no new work will start; waiting for running operations to finish and saving state...");
        }
    });
    let human = HumanEvents::new(std::io::stdout(), ui.color);
    let json_sink = JsonEvents::new(std::io::stdout());
    let events: &dyn EventSink = if json { &json_sink } else { &human };
    let opts = ApplyOptions {
        parallelism,
        ready_timeout: Duration::from_secs(600),
        events,
        cancel: &cancel,
    };
    let report = rt.block_on(session.apply(plan, &opts));
    watcher.abort();
    report
}

/// Turns an apply report into the closing lines and the command's result.
pub fn finish(report: &ApplyReport, plan: &Plan, destroy: bool) -> Result<(), CliError> {
    let s = plan.summary();
    if report.ok() {
        if destroy {
            println!("\nDestroy complete! Resources: {} destroyed.", s.destroy);
        } else {
            println!(
                "\nApply complete! Resources: {} added, {} changed, {} destroyed.",
                s.add, s.change, s.destroy
            );
        }
        return Ok(());
    }
    let mut msg = String::new();
    if report.cancelled {
        msg.push_str("apply interrupted; state was saved with what completed.\n");
    }
    if let Some(e) = &report.save_error {
        msg.push_str(&format!("saving state failed: {e}\n"));
    }
    if !report.failed.is_empty() {
        msg.push_str(&format!("{} resource(s) failed:\n", report.failed.len()));
        for (a, m) in &report.failed {
            msg.push_str(&format!("  {a}: {m}\n"));
        }
    }
    if !report.skipped.is_empty() {
        msg.push_str(&format!(
            "{} resource(s) not attempted because something they depend on failed: {}\n",
            report.skipped.len(),
            report.skipped.join(", ")
        ));
    }
    msg.push_str(&format!(
        "{} resource(s) completed; state saved.",
        report.applied
    ));
    Err(CliError::Message(msg))
}

/// What plan-then-apply commands share after planning: show the plan, ask (unless
/// `--auto-approve`), execute, and report. `question` is the confirmation prompt; with
/// `destroy` the wording says so and a plan with nothing to do ends at once.
pub fn review_and_execute(
    rt: &tokio::runtime::Runtime,
    session: &mut Session,
    plan: &Plan,
    args: &super::ApplyArgs,
    ui: Ui,
    destroy: bool,
) -> super::CliResult {
    if !args.json {
        print_human(plan, ui);
    }
    if destroy && !plan.has_changes() {
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let question = if destroy {
        "Do you really want to destroy all resources?\n  mlstack will destroy everything shown above. There is no undo."
    } else {
        "Do you want to perform these actions?\n  mlstack will perform the actions described above."
    };
    if plan.has_changes() && !args.auto_approve && !confirm(question)? {
        println!("\n{} cancelled.", if destroy { "Destroy" } else { "Apply" });
        return Ok(std::process::ExitCode::from(super::EXIT_ERROR));
    }
    let report = execute(rt, session, plan, args.flags.parallelism, args.json, ui);
    finish(&report, plan, destroy)?;
    Ok(std::process::ExitCode::SUCCESS)
}
