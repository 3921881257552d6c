//! Remote locks are released when the process is told to stop, so that a cancelled CI job
//! (SIGINT, then SIGTERM) does not leave its lock behind (Terraform's hashicorp/terraform#28710).
//!
//! A local OS lock needs none of this (the kernel drops it). For a remote lock, a watcher
//! thread is started with the first lock taken: on SIGINT, SIGTERM or SIGHUP it releases every
//! remote lock still held and exits (130, 143, 129). While an apply runs ([`graceful`]),
//! stopping abruptly would lose track of what is being created, so the signal is turned into
//! the apply's own Ctrl-C handling instead: no new work starts, state is saved, and the lock is
//! released when the run ends.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

type Release = Box<dyn Fn() + Send>;

static HELD: Mutex<BTreeMap<String, Release>> = Mutex::new(BTreeMap::new());
static APPLYING: AtomicUsize = AtomicUsize::new(0);
static WATCHER: Once = Once::new();

/// Registers a held remote lock under its id; `release` deletes it.
pub fn register(id: &str, release: Release) {
    if let Ok(mut held) = HELD.lock() {
        held.insert(id.to_string(), release);
    }
    WATCHER.call_once(start_watcher);
}

/// The lock was released the ordinary way.
pub fn unregister(id: &str) {
    if let Ok(mut held) = HELD.lock() {
        held.remove(id);
    }
}

/// While the returned guard lives, a stop signal interrupts gracefully (as Ctrl-C does in
/// apply) instead of releasing and exiting.
pub fn graceful() -> Graceful {
    APPLYING.fetch_add(1, Ordering::SeqCst);
    Graceful(())
}

/// See [`graceful`].
pub struct Graceful(());

impl Drop for Graceful {
    fn drop(&mut self) {
        APPLYING.fetch_sub(1, Ordering::SeqCst);
    }
}

fn start_watcher() {
    let spawned = std::thread::Builder::new()
        .name("mlstack-signals".into())
        .spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(watch());
        });
    if let Err(e) = spawned {
        eprintln!(
            "Warning: cannot watch for interrupts ({e}); a cancelled run may leave its state lock"
        );
    }
}

async fn watch() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    loop {
        let (code, raised) = tokio::select! {
            _ = int.recv() => (130, false),
            _ = term.recv() => (143, true),
            _ = hup.recv() => (129, true),
        };
        if APPLYING.load(Ordering::SeqCst) > 0 {
            if raised {
                // The apply listens for Ctrl-C: hand it this stop request.
                // SAFETY: signalling our own process.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGINT);
                }
            }
            continue;
        }
        release_all();
        std::process::exit(code);
    }
}

fn release_all() {
    let held = match HELD.lock() {
        Ok(mut h) => std::mem::take(&mut *h),
        Err(_) => return,
    };
    for (id, release) in held {
        release();
        eprintln!("\nInterrupted: released the state lock {id}.");
    }
}
