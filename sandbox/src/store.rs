//! The one generic object store, keyed by (group, resource, namespace, name) — versions
//! share storage — with a global resourceVersion counter and optional persistence:
//! one JSON file per object under `data_dir/objects/`, written atomically (temp + rename).

use crate::events::{Event, EventLog, EventType};
use crate::files::write_atomic;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where an object lives. `namespace` is empty for cluster-scoped objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

/// Objects and the resourceVersion counter.
#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    dir: Option<PathBuf>,
    /// Every change since the store opened, for watches and paginated lists.
    pub events: EventLog,
}

impl Store {
    /// Opens (and loads) the store; `None` keeps everything in memory.
    pub fn open(dir: Option<PathBuf>) -> Result<Store, String> {
        let mut store = Store {
            objects: BTreeMap::new(),
            rv: 0,
            dir: dir.clone(),
            events: EventLog::default(),
        };
        let Some(dir) = dir else {
            return Ok(store);
        };
        let objects = dir.join("objects");
        std::fs::create_dir_all(&objects)
            .map_err(|e| format!("cannot create {}: {e}", objects.display()))?;
        if let Ok(text) = std::fs::read_to_string(dir.join("resource-version")) {
            store.rv = text.trim().parse().unwrap_or(0);
        }
        for group in read_dir(&objects)? {
            for resource in read_dir(&group)? {
                for ns in read_dir(&resource)? {
                    for file in read_dir(&ns)? {
                        let Some(name) = file
                            .file_name()
                            .and_then(|n| n.to_str())
                            .and_then(|n| n.strip_suffix(".json"))
                        else {
                            continue;
                        };
                        let text = std::fs::read_to_string(&file)
                            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                        let obj: Value = serde_json::from_str(&text)
                            .map_err(|e| format!("corrupt object {}: {e}", file.display()))?;
                        if let Some(rv) = obj
                            .pointer("/metadata/resourceVersion")
                            .and_then(Value::as_str)
                            .and_then(|s| s.parse::<u64>().ok())
                        {
                            store.rv = store.rv.max(rv);
                        }
                        let part = |p: &Path| {
                            p.file_name()
                                .and_then(|n| n.to_str())
                                .unwrap_or_default()
                                .to_string()
                        };
                        let g = part(&group);
                        let n = part(&ns);
                        let key = Key {
                            group: if g == "core" { String::new() } else { g },
                            resource: part(&resource),
                            namespace: if n == "_" { String::new() } else { n },
                            name: name.to_string(),
                        };
                        store.objects.insert(key, obj);
                    }
                }
            }
        }
        store.events = EventLog::new(store.rv, crate::events::DEFAULT_WINDOW);
        Ok(store)
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of one resource, optionally in one namespace, in key order.
    pub fn list<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        self.objects.iter().filter(move |(k, _)| {
            k.group == group
                && k.resource == resource
                && namespace.is_none_or(|ns| k.namespace == ns)
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.objects.keys()
    }

    /// The current resourceVersion (of the whole store).
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Advances and returns the resourceVersion counter.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `obj` (and writes it through when persistent), recording an ADDED or
    /// MODIFIED event at the object's resourceVersion.
    pub fn put(&mut self, key: Key, obj: Value) -> Result<(), String> {
        if let Some(path) = self.path_of(&key) {
            let text = serde_json::to_vec_pretty(&obj).map_err(|e| e.to_string())?;
            write_atomic(&path, &text)?;
            self.write_rv()?;
        }
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|rv| *rv > self.events.latest())
            .unwrap_or_else(|| self.next_rv());
        let prev = self.objects.insert(key.clone(), obj.clone());
        let kind = if prev.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.events.record(Event {
            rv,
            kind,
            key,
            object: obj,
            prev,
        });
        Ok(())
    }

    /// Removes an object; the deletion gets its own resourceVersion, carried by the final
    /// object of the DELETED event (as the real apiserver does).
    pub fn remove(&mut self, key: &Key) -> Result<Option<Value>, String> {
        let old = self.objects.remove(key);
        let rv = old.as_ref().map(|_| self.next_rv());
        if let Some(path) = self.path_of(key) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot remove {}: {e}", path.display())),
            }
            self.write_rv()?;
        }
        if let (Some(prev), Some(rv)) = (&old, rv) {
            let mut object = prev.clone();
            if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("resourceVersion".into(), Value::String(rv.to_string()));
            }
            self.events.record(Event {
                rv,
                kind: EventType::Deleted,
                key: key.clone(),
                object,
                prev: Some(prev.clone()),
            });
        }
        Ok(old)
    }

    fn write_rv(&self) -> Result<(), String> {
        match &self.dir {
            Some(dir) => write_atomic(
                &dir.join("resource-version"),
                self.rv.to_string().as_bytes(),
            ),
            None => Ok(()),
        }
    }

    fn path_of(&self, key: &Key) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let group = if key.group.is_empty() {
            "core"
        } else {
            &key.group
        };
        let ns = if key.namespace.is_empty() {
            "_"
        } else {
            &key.namespace
        };
        Some(
            dir.join("objects")
                .join(group)
                .join(&key.resource)
                .join(ns)
                .join(format!("{}.json", key.name)),
        )
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    out.sort();
    Ok(out)
}
