//! Walks a set of nodes in dependency order with bounded parallelism: a node starts once every
//! node it depends on has succeeded; a failure skips everything downstream of it while
//! independent work goes on; cancellation stops starting new nodes and lets in-flight ones end.
//! Plan and apply both use it, so they order and fail the same way.

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Called every tick with the running nodes and when each started.
pub type TickFn<'a> = &'a mut dyn FnMut(&[(usize, Instant)]);

/// What became of one node.
#[derive(Debug)]
pub enum Outcome<T, E> {
    Done(T),
    Failed(E),
    /// Not started because a node it depends on failed or was skipped (that node's index).
    Skipped(usize),
    /// Not started because the walk was cancelled.
    Cancelled,
}

/// Walks `deps.len()` nodes, where `deps[i]` lists the nodes `i` waits for. `on_done` sees each
/// result as it arrives; `on_batch` runs after each group of results that arrived together,
/// before anything new starts. Nodes become ready
/// in index order among equals, so runs are reproducible. `on_tick` is called every `tick` with
/// the nodes running and when each started.
pub async fn walk<T, E, S, Fut>(
    deps: &[Vec<usize>],
    parallelism: usize,
    cancel: &AtomicBool,
    mut start: S,
    mut on_done: impl FnMut(usize, &Result<T, E>),
    mut on_batch: impl FnMut(),
    tick: Option<(Duration, TickFn<'_>)>,
) -> Vec<Outcome<T, E>>
where
    S: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let n = deps.len();
    let parallelism = parallelism.max(1);
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            if d < n && d != i {
                dependents[d].push(i);
                waiting[i] += 1;
            }
        }
    }
    let mut outcomes: Vec<Option<Outcome<T, E>>> = (0..n).map(|_| None).collect();
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut running = FuturesUnordered::new();
    let mut started: BTreeMap<usize, Instant> = BTreeMap::new();
    let (tick_every, mut tick_fn) = match tick {
        Some((d, f)) => (Some(d), Some(f)),
        None => (None, None),
    };
    let mut next_tick = tick_every.map(|d| tokio::time::Instant::now() + d);

    loop {
        while running.len() < parallelism && !cancel.load(Ordering::SeqCst) {
            let Some(i) = ready.pop_first() else { break };
            started.insert(i, Instant::now());
            let fut = start(i);
            running.push(async move { (i, fut.await) });
        }
        if running.is_empty() {
            break;
        }
        let next = match next_tick {
            Some(at) => tokio::select! {
                r = running.next() => r,
                _ = tokio::time::sleep_until(at) => {
                    if let (Some(f), Some(d)) = (tick_fn.as_mut(), tick_every) {
                        let now: Vec<(usize, Instant)> = started.iter().map(|(k, v)| (*k, *v)).collect();
                        f(&now);
                        next_tick = Some(tokio::time::Instant::now() + d);
                    }
                    continue;
                }
            },
            None => running.next().await,
        };
        let Some(first) = next else { break };
        // Take every other completion that is already in, then let the caller act once for the
        // batch (apply saves state there: one write per batch, not per resource).
        let mut batch = vec![first];
        while let Some(Some(more)) = running.next().now_or_never() {
            batch.push(more);
        }
        for (i, result) in batch {
            started.remove(&i);
            on_done(i, &result);
            match result {
                Ok(v) => {
                    outcomes[i] = Some(Outcome::Done(v));
                    for &d in &dependents[i] {
                        waiting[d] -= 1;
                        if waiting[d] == 0 && outcomes[d].is_none() {
                            ready.insert(d);
                        }
                    }
                }
                Err(e) => {
                    outcomes[i] = Some(Outcome::Failed(e));
                    skip_downstream(i, &dependents, &mut outcomes, &mut ready);
                }
            }
        }
        on_batch();
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Cancelled))
        .collect()
}

fn skip_downstream<T, E>(
    failed: usize,
    dependents: &[Vec<usize>],
    outcomes: &mut [Option<Outcome<T, E>>],
    ready: &mut std::collections::BTreeSet<usize>,
) {
    let mut stack = vec![failed];
    while let Some(i) = stack.pop() {
        for &d in &dependents[i] {
            if outcomes[d].is_none() {
                outcomes[d] = Some(Outcome::Skipped(i));
                ready.remove(&d);
                stack.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn dependencies_run_first_and_failures_skip_dependents_only() {
        // 0 <- 1 <- 2 ; 3 independent ; 1 fails.
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let order = RefCell::new(Vec::new());
        let cancel = AtomicBool::new(false);
        let out = rt().block_on(walk(
            &deps,
            2,
            &cancel,
            |i| {
                order.borrow_mut().push(i);
                async move {
                    if i == 1 {
                        Err("boom")
                    } else {
                        Ok(i)
                    }
                }
            },
            |_, _| {},
            || {},
            None,
        ));
        assert!(matches!(out[0], Outcome::Done(0)));
        assert!(matches!(out[1], Outcome::Failed("boom")));
        assert!(matches!(out[2], Outcome::Skipped(1)));
        assert!(matches!(out[3], Outcome::Done(3)));
        let order = order.into_inner();
        assert!(!order.contains(&2));
        let pos = |x| order.iter().position(|&y| y == x).unwrap();
        assert!(pos(0) < pos(1));
    }

    #[test]
    fn parallelism_is_bounded() {
        let deps = vec![vec![]; 8];
        let live = RefCell::new((0usize, 0usize));
        let cancel = AtomicBool::new(false);
        rt().block_on(walk(
            &deps,
            3,
            &cancel,
            |_| {
                let live = &live;
                async move {
                    {
                        let mut l = live.borrow_mut();
                        l.0 += 1;
                        l.1 = l.1.max(l.0);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    live.borrow_mut().0 -= 1;
                    Ok::<_, ()>(())
                }
            },
            |_, _| {},
            || {},
            None,
        ));
        assert_eq!(live.borrow().1, 3);
    }

    #[test]
    fn cancellation_stops_new_work() {
        let deps = vec![vec![], vec![0]];
        let cancel = AtomicBool::new(false);
        let out = rt().block_on(walk(
            &deps,
            1,
            &cancel,
            |i| {
                cancel.store(true, Ordering::SeqCst);
                async move { Ok::<_, ()>(i) }
            },
            |_, _| {},
            || {},
            None,
        ));
        assert!(matches!(out[0], Outcome::Done(0)));
        assert!(matches!(out[1], Outcome::Cancelled));
    }

    #[test]
    fn results_that_arrive_together_form_one_batch() {
        for (parallelism, expected) in [(3, 1), (1, 3)] {
            let deps = vec![vec![]; 3];
            let cancel = AtomicBool::new(false);
            let batches = std::cell::Cell::new(0);
            let done = std::cell::Cell::new(0);
            rt().block_on(walk(
                &deps,
                parallelism,
                &cancel,
                |i| async move { Ok::<_, ()>(i) },
                |_, _| done.set(done.get() + 1),
                || batches.set(batches.get() + 1),
                None,
            ));
            assert_eq!(done.get(), 3);
            assert_eq!(batches.get(), expected, "parallelism {parallelism}");
        }
    }
}
