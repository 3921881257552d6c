//! The first apply, then validate + no-op plan, of generated stacks (1,000 / 5,000 / 10,000 resources, local state, no
//! network): CPU time (user + system) and peak memory (max RSS) of the real `mlstack` binary,
//! measured with wait4(2) on each child. Run: `cargo bench --bench plan_scale`.
//! Sizes can be overridden: `cargo bench --bench plan_scale -- 1000 20000`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Usage {
    cpu: Duration,
    max_rss_kib: i64,
    exit: i32,
}

/// Runs `bin args` in `dir` and returns the child's own CPU time and peak RSS.
// The child is reaped by wait4 below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measure(bin: &Path, dir: &Path, args: &[&str]) -> Usage {
    let child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4 failed");
    let tv =
        |t: libc::timeval| Duration::from_micros(t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64);
    Usage {
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        max_rss_kib: ru.ru_maxrss,
        exit: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
    }
}

/// A stack of `n` random_string resources; nine in ten reference the previous one, so the graph
/// has n nodes and ~0.9 n edges in chains of ten.
fn generate(n: usize, dir: &Path) {
    let mut s = String::with_capacity(n * 120);
    s.push_str("stack:\n  name: bench\nresources:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  r{i}:\n    type: random_string\n    properties:\n      length: 12\n"
        ));
        if i % 10 != 0 {
            s.push_str(&format!(
                "      keepers:\n        previous: ${{r{}.id}}\n",
                i - 1
            ));
        }
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("stack.yaml"), s).unwrap_or_else(|e| panic!("{e}"));
}

fn main() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mlstack"));
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    // Under `cargo test --all-targets` (no `--bench`), a small smoke run keeps the benchmark
    // from rotting without spending minutes of a debug build.
    let benching = std::env::args().any(|a| a == "--bench");
    let sizes = match (sizes.is_empty(), benching) {
        (false, _) => sizes,
        (true, true) => vec![1_000, 5_000, 10_000],
        (true, false) => vec![200],
    };
    let root = std::env::temp_dir().join(format!("mlstack-bench-{}", std::process::id()));
    println!("binary: {}", bin.display());
    println!("| resources | first apply CPU | validate CPU | validate peak RSS | plan CPU | plan peak RSS | plan CPU per resource |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for &n in &sizes {
        let dir = root.join(n.to_string());
        generate(n, &dir);
        let setup = measure(&bin, &dir, &["apply", "stack.yaml", "--auto-approve"]);
        assert_eq!(setup.exit, 0, "setup apply failed for {n}");
        let best = |args: &[&str], expect: i32| {
            let runs: Vec<Usage> = (0..3).map(|_| measure(&bin, &dir, args)).collect();
            for u in &runs {
                assert_eq!(u.exit, expect, "{args:?} exited {} for {n}", u.exit);
            }
            let cpu = runs.iter().map(|u| u.cpu).min().unwrap_or_default();
            let rss = runs.iter().map(|u| u.max_rss_kib).max().unwrap_or_default();
            (cpu, rss)
        };
        let (vcpu, vrss) = best(&["validate", "stack.yaml"], 0);
        let (pcpu, prss) = best(&["plan", "stack.yaml", "--detailed-exitcode"], 0);
        println!(
            "| {n} | {:.3} s | {:.3} s | {:.1} MiB | {:.3} s | {:.1} MiB | {:.1} µs |",
            setup.cpu.as_secs_f64(),
            vcpu.as_secs_f64(),
            vrss as f64 / 1024.0,
            pcpu.as_secs_f64(),
            prss as f64 / 1024.0,
            pcpu.as_secs_f64() * 1e6 / n as f64
        );
        rows.push((n, pcpu));
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        let (n0, c0) = (first.0 as f64, first.1.as_secs_f64());
        let (n1, c1) = (last.0 as f64, last.1.as_secs_f64());
        if n1 > n0 && c0 > 0.0 {
            println!(
                "\nplan CPU ratio {}/{}: {:.2}× (linear would be {:.2}×, n·log n {:.2}×)",
                last.0,
                first.0,
                c1 / c0,
                n1 / n0,
                (n1 * n1.ln()) / (n0 * n0.ln())
            );
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}
