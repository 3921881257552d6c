//! The store's change history: every write and deletion as an event with its
//! resourceVersion, kept in a bounded in-memory window (like the apiserver's watch cache),
//! so that watches can resume from a resourceVersion and paginated lists can serve every
//! page from the snapshot of the first. A resourceVersion older than the window is gone
//! (`410 Expired`), as on a real cluster after compaction.

use crate::store::Key;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::watch;

/// How many events the history keeps by default (the real watch cache keeps a few hundred
/// to a few thousand per resource, depending on size).
pub const DEFAULT_WINDOW: usize = 1000;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change: the object after it (for a deletion, the final object carrying the
/// deletion's resourceVersion) and the object before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub rv: u64,
    pub kind: EventType,
    pub key: Key,
    pub object: Value,
    pub prev: Option<Value>,
}

/// The requested resourceVersion is older than the history (compacted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooOld {
    /// The oldest resourceVersion still answerable.
    pub oldest: u64,
}

/// The bounded event history and the wake-up signal for watchers (the latest
/// resourceVersion, observed without the API's lock).
#[derive(Debug)]
pub struct EventLog {
    events: VecDeque<Event>,
    window: usize,
    /// Every change after this resourceVersion is in `events`.
    complete_after: u64,
    notify: watch::Sender<u64>,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::new(0, DEFAULT_WINDOW)
    }
}

impl EventLog {
    /// An empty history that is complete after `rv` (the store's resourceVersion at start:
    /// changes before a restart are not kept, as the real watch cache forgets them).
    pub fn new(rv: u64, window: usize) -> EventLog {
        EventLog {
            events: VecDeque::new(),
            window: window.max(1),
            complete_after: rv,
            notify: watch::channel(rv).0,
        }
    }

    /// Appends an event (in resourceVersion order) and wakes watchers.
    pub fn record(&mut self, event: Event) {
        let rv = event.rv;
        self.events.push_back(event);
        while self.events.len() > self.window {
            if let Some(old) = self.events.pop_front() {
                self.complete_after = old.rv;
            }
        }
        self.notify.send_replace(rv);
    }

    /// The oldest resourceVersion from which the history can replay.
    #[cfg(test)]
    pub fn oldest(&self) -> u64 {
        self.complete_after
    }

    /// Events after `rv`, or [`TooOld`] when some of them were dropped from the window.
    pub fn since(&self, rv: u64) -> Result<impl Iterator<Item = &Event>, TooOld> {
        if rv < self.complete_after {
            return Err(TooOld {
                oldest: self.complete_after,
            });
        }
        let start = self.events.partition_point(|e| e.rv <= rv);
        Ok(self.events.range(start..))
    }

    /// The resourceVersion of the latest event (or of the start).
    pub fn latest(&self) -> u64 {
        *self.notify.borrow()
    }

    /// A receiver that changes whenever an event is recorded.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.notify.subscribe()
    }

    /// The objects of one resource as they were at `rv`: `current` with every later
    /// change undone (`current` holds the resource's objects now, keyed as in the store).
    pub fn snapshot_at(
        &self,
        rv: u64,
        mut current: BTreeMap<Key, Value>,
        group: &str,
        resource: &str,
    ) -> Result<BTreeMap<Key, Value>, TooOld> {
        let later: Vec<&Event> = self
            .since(rv)?
            .filter(|e| e.key.group == group && e.key.resource == resource)
            .collect();
        for e in later.into_iter().rev() {
            match &e.prev {
                Some(p) => current.insert(e.key.clone(), p.clone()),
                None => current.remove(&e.key),
            };
        }
        Ok(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> Key {
        Key {
            group: String::new(),
            resource: "configmaps".into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    fn ev(rv: u64, kind: EventType, name: &str, prev: Option<Value>) -> Event {
        Event {
            rv,
            kind,
            key: key(name),
            object: json!({"v": rv}),
            prev,
        }
    }

    #[test]
    fn replays_after_a_resource_version() {
        let mut log = EventLog::new(3, 10);
        log.record(ev(4, EventType::Added, "a", None));
        log.record(ev(6, EventType::Modified, "a", Some(json!({"v": 4}))));
        let rvs: Vec<u64> = log.since(3).unwrap().map(|e| e.rv).collect();
        assert_eq!(rvs, [4, 6]);
        let rvs: Vec<u64> = log.since(4).unwrap().map(|e| e.rv).collect();
        assert_eq!(rvs, [6]);
        assert_eq!(log.since(6).unwrap().count(), 0);
        assert_eq!(log.since(2).err(), Some(TooOld { oldest: 3 }));
    }

    #[test]
    fn the_window_forgets_the_oldest_events() {
        let mut log = EventLog::new(0, 2);
        for rv in 1..=5 {
            log.record(ev(rv, EventType::Added, &format!("o{rv}"), None));
        }
        assert_eq!(log.oldest(), 3);
        assert!(log.since(2).is_err());
        let rvs: Vec<u64> = log.since(3).unwrap().map(|e| e.rv).collect();
        assert_eq!(rvs, [4, 5]);
    }

    #[test]
    fn watchers_are_woken_with_the_latest_resource_version() {
        let mut log = EventLog::new(0, 4);
        let mut rx = log.subscribe();
        assert!(!rx.has_changed().unwrap());
        log.record(ev(7, EventType::Added, "a", None));
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 7);
    }

    #[test]
    fn snapshots_undo_later_changes() {
        let mut log = EventLog::new(0, 10);
        log.record(ev(1, EventType::Added, "a", None));
        log.record(ev(2, EventType::Added, "b", None));
        log.record(ev(3, EventType::Modified, "a", Some(json!({"v": 1}))));
        log.record(ev(4, EventType::Deleted, "b", Some(json!({"v": 2}))));
        let now: BTreeMap<Key, Value> = [(key("a"), json!({"v": 3}))].into();
        let at2 = log.snapshot_at(2, now.clone(), "", "configmaps").unwrap();
        assert_eq!(at2[&key("a")], json!({"v": 1}));
        assert_eq!(at2[&key("b")], json!({"v": 2}));
        let at0 = log.snapshot_at(0, now.clone(), "", "configmaps").unwrap();
        assert!(at0.is_empty());
        let at4 = log.snapshot_at(4, now.clone(), "", "configmaps").unwrap();
        assert_eq!(at4, now);
    }
}
