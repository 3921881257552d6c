//! State in Secrets. The head Secret `mlstack-state-<suffix>` holds the state (its `state`
//! key), or, for a state larger than one Secret allows (1 MiB), the first part, with the part
//! count, a generation (a fresh random token per write, so that two writers never share part
//! names), the size and a SHA-256 in annotations; parts 2..N are Secrets
//! `mlstack-state-<suffix>-<generation>-part-<i>`.
//!
//! A write never changes what a reader may be reading: it creates the parts of a new
//! generation, copies the current head to `mlstack-state-<suffix>-backup` (the previous
//! version, whose parts are kept until the next write), switches the head in one update under
//! its resourceVersion, and only then deletes the generation before the backup's. A reader
//! that finds a part gone or a digest wrong started while the head moved: it reads again.

use super::api::{Kind, Objects, Written};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Bytes of state per Secret: under Kubernetes' 1 MiB limit on a Secret's data, with room for
/// metadata (the request also carries them base64-encoded, a third more).
pub const PART_BYTES: usize = 768 * 1024;

const GENERATION: &str = "mlstack.dev/state-generation";
const PARTS: &str = "mlstack.dev/state-parts";
const SHA256: &str = "mlstack.dev/state-sha256";
const SIZE: &str = "mlstack.dev/state-bytes";
const ROLE: &str = "mlstack.dev/state-role";
/// The data key holding the state (or a part of it).
pub const DATA_KEY: &str = "state";

/// How many times a read starts over when a concurrent write moved the head.
const READ_ATTEMPTS: usize = 5;
/// How many times the head switch is tried while the head has not changed.
const SWITCH_TRIES: usize = 3;

/// Where one stack's state lives in a namespace.
#[derive(Debug, Clone)]
pub struct Layout {
    pub namespace: String,
    pub suffix: String,
    /// On every object written (the managed-by and stack labels included).
    pub labels: BTreeMap<String, String>,
    pub part_bytes: usize,
}

impl Layout {
    pub fn head(&self) -> String {
        format!("mlstack-state-{}", self.suffix)
    }

    pub fn backup(&self) -> String {
        format!("mlstack-state-{}-backup", self.suffix)
    }

    pub fn part(&self, generation: &str, index: usize) -> String {
        format!("mlstack-state-{}-{generation}-part-{index}", self.suffix)
    }

    pub fn lease(&self) -> String {
        format!("mlstack-lock-{}", self.suffix)
    }

    /// A Secret of ours holding `chunk`.
    fn secret(
        &self,
        name: &str,
        role: &str,
        annotations: BTreeMap<&str, String>,
        chunk: &[u8],
        resource_version: Option<&str>,
    ) -> Json {
        let mut labels: Map<String, Json> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Json::from(v.as_str())))
            .collect();
        labels.insert(ROLE.into(), role.into());
        let mut metadata = json!({
            "name": name,
            "namespace": self.namespace,
            "labels": labels,
            "annotations": annotations,
        });
        if let Some(rv) = resource_version {
            metadata["resourceVersion"] = rv.into();
        }
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": metadata,
            "data": {DATA_KEY: B64.encode(chunk)},
        })
    }
}

/// What a head (or backup) Secret says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    generation: String,
    parts: usize,
    sha256: Option<String>,
    size: Option<usize>,
    chunk: Vec<u8>,
    resource_version: Option<String>,
}

fn annotation<'a>(obj: &'a Json, key: &str) -> Option<&'a str> {
    obj["metadata"]["annotations"][key].as_str()
}

fn chunk_of(obj: &Json, name: &str) -> Result<Vec<u8>, String> {
    let data = obj["data"][DATA_KEY].as_str().ok_or_else(|| {
        format!("the Secret {name} has no `{DATA_KEY}` key: it was not written by mlstack")
    })?;
    B64.decode(data)
        .map_err(|e| format!("the Secret {name}'s `{DATA_KEY}` is not base64: {e}"))
}

fn parse_head(obj: &Json, name: &str) -> Result<Head, String> {
    let number = |key: &str| -> Result<Option<u64>, String> {
        match annotation(obj, key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                format!("the Secret {name}'s annotation {key} is not a number: `{v}`")
            }),
        }
    };
    let parts = number(PARTS)?.unwrap_or(1);
    if parts == 0 || parts > 10_000 {
        return Err(format!(
            "the Secret {name}'s annotation {PARTS} is out of range: {parts}"
        ));
    }
    Ok(Head {
        generation: annotation(obj, GENERATION).unwrap_or("0").to_string(),
        parts: parts as usize,
        sha256: annotation(obj, SHA256).map(str::to_string),
        size: number(SIZE)?.map(|s| s as usize),
        chunk: chunk_of(obj, name)?,
        resource_version: obj["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string),
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One attempt at reading the whole state that `head` points at; `Ok(None)` when a part is
/// missing or the pieces do not add up (a write moved the head meanwhile).
fn assemble(objs: &dyn Objects, layout: &Layout, head: Head) -> Result<Option<Vec<u8>>, String> {
    let mut bytes = head.chunk;
    for index in 2..=head.parts {
        let name = layout.part(&head.generation, index);
        let Some(part) = objs.get(Kind::Secret, &name)? else {
            return Ok(None);
        };
        if annotation(&part, GENERATION) != Some(head.generation.as_str()) {
            return Ok(None);
        }
        bytes.extend(chunk_of(&part, &name)?);
    }
    let size_ok = head.size.is_none_or(|s| s == bytes.len());
    let sha_ok = head
        .sha256
        .as_ref()
        .is_none_or(|h| *h == sha256_hex(&bytes));
    Ok((size_ok && sha_ok).then_some(bytes))
}

/// The stored bytes, `None` when no head Secret exists.
pub fn read(objs: &dyn Objects, layout: &Layout) -> Result<Option<Vec<u8>>, String> {
    let name = layout.head();
    for _ in 0..READ_ATTEMPTS {
        let Some(obj) = objs.get(Kind::Secret, &name)? else {
            return Ok(None);
        };
        let head = parse_head(&obj, &name)?;
        let generation = head.generation.clone();
        let parts = head.parts;
        if let Some(bytes) = assemble(objs, layout, head)? {
            return Ok(Some(bytes));
        }
        // Still the same head after a failed assembly: the parts are damaged, not moving.
        let again = objs.get(Kind::Secret, &name)?;
        if again
            .as_ref()
            .map(|o| parse_head(o, &name))
            .transpose()?
            .is_some_and(|h| h.generation == generation)
        {
            return Err(format!(
                "the state in Secret {}/{name} is damaged: its {parts} parts (generation \
                 {generation}, Secrets {}-{generation}-part-2 and on) are missing or do not \
                 match its digest",
                layout.namespace, name
            ));
        }
    }
    Err(format!(
        "the state in Secret {}/{name} kept changing while it was read ({READ_ATTEMPTS} \
         attempts): another run is writing without the lock",
        layout.namespace
    ))
}

/// Creates `obj` named `name`, replacing a leftover of a write that failed half-way.
fn put_fresh(objs: &dyn Objects, name: &str, obj: &Json) -> Result<(), String> {
    match objs.create(Kind::Secret, obj)? {
        Written::Done => Ok(()),
        _ => match objs.replace(Kind::Secret, name, obj)? {
            Written::Done => Ok(()),
            _ => Err(format!(
                "cannot write the Secret {name}: it keeps changing (another run is writing \
                 without the lock)"
            )),
        },
    }
}

/// Deletes the parts of `generation`, from 2 up to `parts` and on while more are found
/// (leftovers of a larger write that failed).
fn delete_generation(
    objs: &dyn Objects,
    layout: &Layout,
    generation: &str,
    parts: usize,
) -> Result<(), String> {
    let mut index = 2;
    loop {
        let deleted = objs.delete(Kind::Secret, &layout.part(generation, index), None)?;
        if !deleted && index > parts {
            return Ok(());
        }
        index += 1;
    }
}

/// A fresh generation token: ten hex digits.
fn new_generation() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// Stores `bytes` as the state (see the module docs for the order of steps). On failure the
/// stored state is unchanged, and the new generation's parts are removed as far as possible.
pub fn write(objs: &dyn Objects, layout: &Layout, bytes: &[u8]) -> Result<(), String> {
    let generation = new_generation();
    let chunks: Vec<&[u8]> = if bytes.is_empty() {
        vec![bytes]
    } else {
        bytes.chunks(layout.part_bytes.max(1)).collect()
    };
    let result = write_generation(objs, layout, bytes, &chunks, &generation);
    if result.is_err() && chunks.len() > 1 {
        let _ = delete_generation(objs, layout, &generation, chunks.len());
    }
    result
}

fn write_generation(
    objs: &dyn Objects,
    layout: &Layout,
    bytes: &[u8],
    chunks: &[&[u8]],
    generation: &str,
) -> Result<(), String> {
    let head_name = layout.head();
    let current = objs.get(Kind::Secret, &head_name)?;
    let current_head = current
        .as_ref()
        .map(|o| parse_head(o, &head_name))
        .transpose()?;

    // 1. The parts of the new generation (readers do not look at them yet).
    for (i, chunk) in chunks.iter().enumerate().skip(1) {
        let name = layout.part(generation, i + 1);
        let part = layout.secret(
            &name,
            "part",
            BTreeMap::from([(GENERATION, generation.to_string())]),
            chunk,
            None,
        );
        put_fresh(objs, &name, &part)?;
    }

    // 2. The current version becomes the backup; the parts of the backup it replaces go.
    if let (Some(obj), Some(head)) = (&current, &current_head) {
        let backup_name = layout.backup();
        if let Some(old) = objs.get(Kind::Secret, &backup_name)? {
            if let Ok(old) = parse_head(&old, &backup_name) {
                if old.generation != head.generation && old.parts > 1 {
                    delete_generation(objs, layout, &old.generation, old.parts)?;
                }
            }
        }
        let mut kept = BTreeMap::new();
        for key in [GENERATION, PARTS, SHA256, SIZE] {
            if let Some(v) = annotation(obj, key) {
                kept.insert(key, v.to_string());
            }
        }
        let backup = layout.secret(&backup_name, "backup", kept, &head.chunk, None);
        put_fresh(objs, &backup_name, &backup)?;
    }

    // 3. The switch: one update of the head, only if nobody changed it since it was read.
    let annotations = BTreeMap::from([
        (GENERATION, generation.to_string()),
        (PARTS, chunks.len().to_string()),
        (SHA256, sha256_hex(bytes)),
        (SIZE, bytes.len().to_string()),
    ]);
    let new_head = layout.secret(
        &head_name,
        "head",
        annotations,
        chunks[0],
        current_head
            .as_ref()
            .and_then(|h| h.resource_version.as_deref()),
    );
    let read_version = current_head
        .as_ref()
        .and_then(|h| h.resource_version.clone());
    let mut outcome = Written::Conflict;
    for _ in 0..SWITCH_TRIES {
        outcome = match &current_head {
            None => objs.create(Kind::Secret, &new_head)?,
            Some(_) => objs.replace(Kind::Secret, &head_name, &new_head)?,
        };
        if outcome == Written::Done {
            break;
        }
        // A conflict while the head is still the one read was transient: try again.
        let now = objs.get(Kind::Secret, &head_name)?;
        let version = now.as_ref().map(|o| {
            o["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string)
        });
        if version != current_head.as_ref().map(|_| read_version.clone()) {
            break;
        }
    }
    if outcome != Written::Done {
        return Err(format!(
            "the state Secret {}/{head_name} changed while this run was writing it (another \
             run writes without the lock?); this run's change was not stored",
            layout.namespace
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::api::fake::Fake;
    use super::*;

    fn layout(part_bytes: usize) -> Layout {
        Layout {
            namespace: "default".into(),
            suffix: "demo".into(),
            labels: BTreeMap::from([("app.kubernetes.io/managed-by".into(), "mlstack".into())]),
            part_bytes,
        }
    }

    #[test]
    fn small_state_is_one_secret_and_the_previous_is_the_backup() {
        let (objs, l) = (Fake::default(), layout(100));
        assert_eq!(read(&objs, &l).unwrap(), None);
        write(&objs, &l, b"one").unwrap();
        assert_eq!(read(&objs, &l).unwrap().unwrap(), b"one");
        assert_eq!(objs.names(Kind::Secret), vec!["mlstack-state-demo"]);
        write(&objs, &l, b"two").unwrap();
        assert_eq!(read(&objs, &l).unwrap().unwrap(), b"two");
        let backup = objs
            .get(Kind::Secret, "mlstack-state-demo-backup")
            .unwrap()
            .unwrap();
        assert_eq!(chunk_of(&backup, "b").unwrap(), b"one");
        let head = objs
            .get(Kind::Secret, "mlstack-state-demo")
            .unwrap()
            .unwrap();
        assert_eq!(head["type"], "Opaque");
        assert_eq!(
            head["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "mlstack"
        );
        assert_eq!(head["metadata"]["annotations"][PARTS], "1");
    }

    #[test]
    fn large_state_is_split_and_old_generations_go() {
        let (objs, l) = (Fake::default(), layout(10));
        let parts = |objs: &Fake| -> Vec<String> {
            objs.names(Kind::Secret)
                .into_iter()
                .filter(|n| n.contains("-part-"))
                .collect()
        };
        let big: Vec<u8> = (0..35u8).collect();
        write(&objs, &l, &big).unwrap();
        assert_eq!(read(&objs, &l).unwrap().unwrap(), big);
        assert_eq!(
            objs.names(Kind::Secret).len(),
            4,
            "{:?}",
            objs.names(Kind::Secret)
        );
        let first = parts(&objs);
        let bigger: Vec<u8> = (0..45u8).collect();
        write(&objs, &l, &bigger).unwrap();
        assert_eq!(read(&objs, &l).unwrap().unwrap(), bigger);
        // The backup is the first version: its parts stay, next to the current four.
        assert_eq!(parts(&objs).len(), 7);
        write(&objs, &l, b"small").unwrap();
        assert_eq!(read(&objs, &l).unwrap().unwrap(), b"small");
        let now = parts(&objs);
        assert!(first.iter().all(|p| !now.contains(p)), "{now:?}");
        assert_eq!(now.len(), 4, "the backup's (second version's) parts");
        write(&objs, &l, b"again").unwrap();
        assert_eq!(
            objs.names(Kind::Secret),
            vec!["mlstack-state-demo", "mlstack-state-demo-backup"]
        );
    }

    #[test]
    fn a_reader_never_sees_a_mix_and_a_damaged_state_is_an_error() {
        let (objs, l) = (Fake::default(), layout(4));
        write(&objs, &l, b"aaaabbbbcccc").unwrap();
        // A part of the current generation rewritten behind our back: digest mismatch.
        let head = objs.get(Kind::Secret, &l.head()).unwrap().unwrap();
        let generation = annotation(&head, GENERATION).unwrap().to_string();
        let name = l.part(&generation, 2);
        let bad = l.secret(
            &name,
            "part",
            BTreeMap::from([(GENERATION, generation)]),
            b"XXXX",
            None,
        );
        objs.replace(Kind::Secret, &name, &bad).unwrap();
        let err = read(&objs, &l).unwrap_err();
        assert!(err.contains("damaged"), "{err}");
    }

    #[test]
    fn a_concurrent_head_change_fails_the_write_and_leaves_the_state() {
        let (objs, l) = (Fake::default(), layout(4));
        write(&objs, &l, b"first").unwrap();
        // A writer that read the head before another write switched it.
        struct Racing<'a>(&'a Fake, &'a Layout);
        impl Objects for Racing<'_> {
            fn get(&self, k: Kind, n: &str) -> Result<Option<Json>, String> {
                let got = self.0.get(k, n);
                if n == self.1.head() {
                    write(self.0, self.1, b"other").unwrap();
                }
                got
            }
            fn create(&self, k: Kind, o: &Json) -> Result<Written, String> {
                self.0.create(k, o)
            }
            fn replace(&self, k: Kind, n: &str, o: &Json) -> Result<Written, String> {
                self.0.replace(k, n, o)
            }
            fn delete(&self, k: Kind, n: &str, rv: Option<&str>) -> Result<bool, String> {
                self.0.delete(k, n, rv)
            }
        }
        let err = write(&Racing(&objs, &l), &l, b"mine, larger than one part").unwrap_err();
        assert!(err.contains("changed while"), "{err}");
        assert_eq!(read(&objs, &l).unwrap().unwrap(), b"other");
        // Our parts were removed; the other writer's (2 parts) and the backup's remain.
        let parts = objs
            .names(Kind::Secret)
            .into_iter()
            .filter(|n| n.contains("-part-"))
            .count();
        assert_eq!(parts, 2);
    }
}
