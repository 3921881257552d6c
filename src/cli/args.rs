//! Command-line arguments (Terraform's flag names where one exists).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mlstack",
    version,
    about = "Declarative provisioner for a complete MLOps environment"
)]
pub struct Cli {
    /// Disable colour (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, type-check, resolve references and build the graph; no network.
    Validate(StackArgs),
    /// Refresh live state and print the plan.
    Plan(PlanArgs),
    /// Plan, confirm and apply; or apply a saved plan exactly.
    Apply(ApplyArgs),
    /// Plan and apply the deletion of everything the stack manages.
    Destroy(ApplyArgs),
    /// Write every Kubernetes object and generated monitoring file as files; no network.
    Render(RenderArgs),
    /// Print the dependency graph.
    Graph(GraphArgs),
    /// Print stack outputs.
    Output(OutputArgs),
    /// Print a saved plan.
    Show(ShowArgs),
    /// Inspect and repair state.
    #[command(subcommand)]
    State(StateCommand),
    /// Adopt an existing object into state under a stack address.
    Import(ImportArgs),
    /// Remove a state lock left by a run that died (a cancelled CI job), given its lock id.
    ForceUnlock(ForceUnlockArgs),
    /// Print a JSON Schema of the stack file, for editor completion.
    Schema,
    /// The local sandbox: an emulated Kubernetes API on loopback (nothing really runs in it).
    #[command(subcommand)]
    Sandbox(SandboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Start the sandbox in the background (idempotent) and print its endpoints.
    Up(SandboxUpArgs),
    /// Stop the sandbox.
    Down,
    /// Whether it runs, its endpoints and what it holds.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Print a kubeconfig for the real kubectl.
    Kubeconfig {
        /// A cluster created in the sandbox cloud (default: the most recent, or the standalone API).
        #[arg(long)]
        cluster: Option<String>,
        /// The standalone API, authenticating with a client certificate instead of a token.
        #[arg(long, conflicts_with = "cluster")]
        client_cert: bool,
    },
    /// Run the sandbox in the foreground (what `up` starts detached).
    #[command(hide = true)]
    Serve(SandboxUpArgs),
}

#[derive(Debug, Args, Clone)]
pub struct SandboxUpArgs {
    /// How long simulated controllers take to report workloads ready.
    #[arg(long, default_value = "200ms", value_parser = parse_duration)]
    pub ready_delay: std::time::Duration,
    /// How long the cloud's create, update and delete operations run.
    #[arg(long, default_value = "300ms", value_parser = parse_duration)]
    pub operation_delay: std::time::Duration,
    /// Added to every request.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub latency: std::time::Duration,
    /// Share of resource requests answered with an injected error (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// The injected error codes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "500,429,409")]
    pub error_codes: Vec<u16>,
    /// Share of resource requests whose connection is dropped (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub drop_rate: f64,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The resource's address in the stack.
    pub address: String,
    /// The provider's id of the existing object (a file path, a cloud id, ...).
    pub id: String,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

/// Arguments shared by every command that reads a stack.
#[derive(Debug, Args, Clone)]
pub struct StackArgs {
    /// The stack file.
    pub stack: PathBuf,
    /// Set a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a YAML or JSON file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

/// Arguments of commands that plan.
#[derive(Debug, Args, Clone)]
pub struct PlanFlags {
    /// Limit to these resources and what they depend on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Plan to replace this resource even if unchanged (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Only reconcile state with what is live; change nothing.
    #[arg(long)]
    pub refresh_only: bool,
    /// How many providers' calls run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// How long to wait for the state lock (e.g. 30s; 0s fails at once).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Take the state lock (false for read-only previews).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub lock: bool,
    /// Allow a plan that deletes every managed object.
    #[arg(long)]
    pub allow_delete_all: bool,
    /// Point every provider at the local sandbox.
    #[arg(long)]
    pub sandbox: bool,
    /// Stop on fields another manager owns instead of taking them back (server-side apply
    /// without force).
    #[arg(long)]
    pub no_force_conflicts: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Save the plan to this file, for `mlstack apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 0 when nothing changes, 2 when changes are pending, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan the destruction of everything (as `destroy` does).
    #[arg(long)]
    pub destroy: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Print progress as JSON lines (for CI and editors).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The directory to write into (created when missing).
    #[arg(long)]
    pub out: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Only these resources and their dependencies.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// One output's name.
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print sensitive values in clear.
    #[arg(long)]
    pub show_sensitive: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan file saved with `plan --out`.
    pub plan: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List recorded resources.
    List(StateListArgs),
    /// Show one recorded resource (sensitive values masked).
    Show(StateAddrArgs),
    /// Forget a resource without deleting it.
    Rm(StateAddrArgs),
    /// Rename a resource's address in state.
    Mv(StateMvArgs),
    /// Print the state as JSON (decrypted), for backups and repairs.
    Pull(StateListArgs),
    /// Replace the state with a file (refuses another lineage or an older serial unless --force).
    Push(StatePushArgs),
    /// Copy the state from the backend last used here to the one the stack file names.
    Migrate(StateMigrateArgs),
}

#[derive(Debug, Args)]
pub struct StatePushArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// A state file (as `state pull` prints it).
    pub file: PathBuf,
    /// Push even when the lineage differs or the serial is not newer.
    #[arg(long)]
    pub force: bool,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct StateMigrateArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Overwrite a different state already in the new backend.
    #[arg(long)]
    pub force: bool,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The lock id the lock error printed.
    pub lock_id: String,
}

#[derive(Debug, Args)]
pub struct StateListArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct StateAddrArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    pub address: String,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct StateMvArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    pub from: String,
    pub to: String,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

/// Parses `30s`, `2m`, `0s`, `1h30m`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); for example 30s or 2m"))
}
