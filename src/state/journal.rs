//! The local backend's journal: during an apply each save appends only what changed (one
//! line of JSON per save) beside the last full snapshot, instead of rewriting the whole state,
//! so a first apply of N resources costs O(N) bytes written, not O(N²). The journal is folded
//! into the snapshot when it grows as large as the snapshot (amortised O(1) per change) and at
//! the end of every apply.
//!
//! Crash safety: an entry is appended with one `write` and `fdatasync`ed before the save
//! returns. A reader replays, in order, the entries whose serial follows the snapshot's (same
//! lineage); a torn last line (a crash in the middle of an append) is ignored, which loses
//! only the save that was never acknowledged. Any other unreadable line is an error naming the
//! file, and nothing is changed.

use super::model::{OutputState, ResourceState, State};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One save: the resources that changed (their whole records), the addresses that left, and
/// the outputs, as of `serial`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    pub serial: u64,
    pub lineage: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upsert: Vec<ResourceState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    pub outputs: BTreeMap<String, OutputState>,
}

impl Entry {
    /// The entry recording `changed` addresses of `state` (already at its new serial): those
    /// still in state are upserts, the others removals.
    pub fn of(state: &State, changed: &BTreeSet<String>) -> Entry {
        let mut upsert = Vec::new();
        let mut remove = Vec::new();
        for a in changed {
            match state.resource(a) {
                Some(r) => upsert.push(r.clone()),
                None => remove.push(a.clone()),
            }
        }
        Entry {
            serial: state.serial,
            lineage: state.lineage.clone(),
            upsert,
            remove,
            outputs: state.outputs.clone(),
        }
    }

    /// The entry as one line (compact JSON and a newline).
    pub fn line(&self) -> Result<Vec<u8>, String> {
        let mut bytes =
            serde_json::to_vec(self).map_err(|e| format!("cannot encode a state change: {e}"))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Applies the entries of `journal` that continue `state` (same lineage, serial one more than
/// the state's, in order). Returns how many were applied. `place` names the journal file for
/// errors, which never quote its content.
pub fn replay(state: &mut State, journal: &[u8], place: &str) -> Result<usize, String> {
    let mut applied = 0;
    let mut lines = journal.split_inclusive(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let complete = line.ends_with(b"\n");
        let is_last = lines.peek().is_none();
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry: Entry = match serde_json::from_slice(text) {
            Ok(e) => e,
            // A crash during the last append leaves a torn line: that save never returned.
            Err(_) if is_last && !complete => break,
            Err(e) => {
                return Err(format!(
                    "{place} has an unreadable entry (line {} of the journal, {}); it was left \
                     untouched",
                    applied + 1,
                    match e.classify() {
                        serde_json::error::Category::Data => "unexpected content",
                        _ => "JSON syntax error",
                    }
                ))
            }
        };
        if entry.lineage != state.lineage || entry.serial <= state.serial {
            // Older than the snapshot (written before it was compacted), or another lineage.
            continue;
        }
        if entry.serial != state.serial + 1 {
            return Err(format!(
                "{place} skips from serial {} to {}; it was left untouched",
                state.serial, entry.serial
            ));
        }
        for a in &entry.remove {
            state.remove(a);
        }
        for r in entry.upsert {
            state.upsert(r);
        }
        state.outputs = entry.outputs;
        state.serial = entry.serial;
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Mode;

    fn res(address: &str, v: i64) -> ResourceState {
        ResourceState {
            address: address.into(),
            mode: Mode::Managed,
            type_name: "random_string".into(),
            provider: "random".into(),
            id: None,
            attributes: serde_json::json!({ "v": v }),
            sensitive_attributes: vec![],
            dependencies: vec![],
            prevent_destroy: false,
        }
    }

    fn step(state: &mut State, journal: &mut Vec<u8>, f: impl FnOnce(&mut State) -> Vec<&str>) {
        let changed: BTreeSet<String> = f(state).into_iter().map(str::to_string).collect();
        state.serial += 1;
        journal.extend(Entry::of(state, &changed).line().unwrap());
    }

    #[test]
    fn replays_upserts_removals_and_outputs_in_order() {
        let snapshot = State::new();
        let mut live = snapshot.clone();
        let mut journal = Vec::new();
        step(&mut live, &mut journal, |s| {
            s.upsert(res("b", 1));
            s.upsert(res("a", 1));
            vec!["a", "b"]
        });
        step(&mut live, &mut journal, |s| {
            s.upsert(res("a", 2));
            s.remove("b");
            s.outputs.insert(
                "o".into(),
                OutputState {
                    value: serde_json::json!(1),
                    sensitive: false,
                },
            );
            vec!["a", "b"]
        });
        let mut back = snapshot.clone();
        assert_eq!(replay(&mut back, &journal, "j").unwrap(), 2);
        assert_eq!(back, live);
    }

    #[test]
    fn a_torn_last_line_is_the_save_that_never_returned() {
        let mut live = State::new();
        let snapshot = live.clone();
        let mut journal = Vec::new();
        step(&mut live, &mut journal, |s| {
            s.upsert(res("a", 1));
            vec!["a"]
        });
        let acknowledged = live.clone();
        step(&mut live, &mut journal, |s| {
            s.upsert(res("b", 1));
            vec!["b"]
        });
        journal.truncate(journal.len() - 5);
        let mut back = snapshot;
        assert_eq!(replay(&mut back, &journal, "j").unwrap(), 1);
        assert_eq!(back, acknowledged);
    }

    #[test]
    fn entries_the_snapshot_already_holds_are_skipped_and_gaps_refused() {
        let mut live = State::new();
        let mut journal = Vec::new();
        step(&mut live, &mut journal, |s| {
            s.upsert(res("a", 1));
            vec!["a"]
        });
        let compacted = live.clone();
        let mut back = compacted.clone();
        assert_eq!(replay(&mut back, &journal, "j").unwrap(), 0);
        assert_eq!(back, compacted);

        let mut gap = State::new();
        gap.lineage = live.lineage.clone();
        live.serial += 5;
        let far = Entry::of(&live, &BTreeSet::new()).line().unwrap();
        let err = replay(&mut gap, &far, "journal j").unwrap_err();
        assert!(err.contains("journal j skips from serial 0 to 6"), "{err}");
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_without_content() {
        let mut s = State::new();
        let err = replay(&mut s, b"{\"serial\": \"hunter2\"}\n{}\n", "journal j").unwrap_err();
        assert!(err.contains("journal j has an unreadable entry"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
