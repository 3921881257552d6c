//! What `plan`, `apply` and `destroy` share: the loaded stack and its graph, the providers, the
//! state backend, the lock held for the whole run, and the state read under it.

use crate::apply::{ApplyOptions, ApplyReport};
use crate::graph::Graph;
use crate::plan::{Plan, PlanError, PlanOptions};
use crate::providers::Registry;
use crate::stack::Stack;
use crate::state::{open_checked, Backend, Changed, LockGuard, LockInfo, State};
use std::time::Duration;

/// An open run against one stack's state.
pub struct Session {
    pub stack: Stack,
    pub graph: Graph,
    pub registry: Registry,
    pub backend: Box<dyn Backend>,
    /// Held until the session drops (None for `--lock=false` previews).
    lock: Option<LockGuard>,
    /// The state as read under the lock (a new, empty state when none exists).
    pub state: State,
    /// Whether the backend held a state when the session opened.
    pub state_existed: bool,
}

impl Session {
    /// Builds the graph, opens the backend, takes the lock when `lock` (waiting up to
    /// `lock_timeout`) and reads the state. `operation` names the run in the lock.
    pub fn open(
        stack: Stack,
        registry: Registry,
        operation: &str,
        lock: bool,
        lock_timeout: Duration,
    ) -> Result<Session, SessionError> {
        let graph = crate::graph::build(&stack).map_err(SessionError::Diagnostics)?;
        let cwd = std::env::current_dir().map_err(|e| {
            SessionError::Message(format!("cannot read the working directory: {e}"))
        })?;
        let backend = open_checked(
            &stack.backend,
            &stack.name,
            &cwd,
            &stack.path.display().to_string(),
        )
        .map_err(SessionError::Message)?;
        let guard = if lock {
            Some(
                backend
                    .lock(&LockInfo::for_this_process(operation), lock_timeout)
                    .map_err(SessionError::Message)?,
            )
        } else {
            None
        };
        let stored = backend.read().map_err(SessionError::Message)?;
        let state_existed = stored.is_some();
        let state = stored.unwrap_or_default();
        Ok(Session {
            stack,
            graph,
            registry,
            backend,
            lock: guard,
            state,
            state_existed,
        })
    }

    /// Whether this session holds the state lock.
    pub fn locked(&self) -> bool {
        self.lock.is_some()
    }

    /// Refreshes and plans.
    pub async fn plan(&self, opts: &PlanOptions) -> Result<Plan, PlanError> {
        crate::plan::compute(&self.stack, &self.graph, &self.state, &self.registry, opts).await
    }

    /// Applies a plan made in this session, saving state after every resource.
    pub async fn apply(&mut self, plan: &Plan, opts: &ApplyOptions<'_>) -> ApplyReport {
        let backend = &self.backend;
        let mut save = |s: &mut State, changed: Changed<'_>| {
            match changed {
                Some(c) => backend.write_step(s, c),
                None => backend.write(s),
            }
            .map(|_| ())
        };
        let mut state = std::mem::take(&mut self.state);
        let mut report = crate::apply::apply(
            &self.stack,
            &self.graph,
            plan,
            &self.registry,
            &mut state,
            &mut save,
            opts,
        )
        .await;
        self.state = state;
        // One snapshot again, whatever happened; a failure here loses nothing (the journal
        // stays and is read back), so it only adds to the report.
        if let Err(e) = self.backend.compact() {
            if report.save_error.is_none() {
                report.save_error = Some(e);
            }
        }
        report
    }
}

/// Why a session could not open.
#[derive(Debug)]
pub enum SessionError {
    Diagnostics(crate::diag::Diagnostics),
    Message(String),
}
