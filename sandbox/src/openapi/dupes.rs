//! Duplicate fields in a JSON body (`{"replicas": 1, "replicas": 2}`), which a plain JSON
//! decode silently resolves to the last value; the apiserver reports them by path under
//! `fieldValidation` (`duplicate field "spec.replicas"`).

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;

/// The duplicate-field messages of a write body, in the apiserver's words: for JSON
/// `duplicate field "spec.replicas"`, for YAML the YAML decoder's
/// `yaml: unmarshal errors:\n  line 5: key "replicas" already set in map`.
pub fn messages(body: &[u8]) -> Vec<String> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return duplicates(body)
            .iter()
            .map(|p| format!("duplicate field {p:?}"))
            .collect();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    let lines = yaml_duplicates(text);
    if lines.is_empty() {
        return Vec::new();
    }
    vec![format!("yaml: unmarshal errors:\n  {}", lines.join("\n  "))]
}

enum Frame {
    Seq,
    Map {
        seen: BTreeSet<String>,
        key_next: bool,
    },
}

/// `line N: key "k" already set in map` for each repeated key of a YAML mapping.
fn yaml_duplicates(text: &str) -> Vec<String> {
    use saphyr_parser::{Event, Parser};
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // A value (scalar or closed container) completed inside the top frame.
    fn done(stack: &mut [Frame]) {
        if let Some(Frame::Map { key_next, .. }) = stack.last_mut() {
            *key_next = !*key_next;
        }
    }
    for ev in Parser::new_from_str(text) {
        let Ok((ev, span)) = ev else {
            return out;
        };
        match ev {
            Event::Scalar(s, ..) => {
                if let Some(Frame::Map {
                    seen,
                    key_next: true,
                }) = stack.last_mut()
                {
                    if !seen.insert(s.to_string()) {
                        out.push(format!(
                            "line {}: key {:?} already set in map",
                            span.start.line(),
                            s.as_ref()
                        ));
                    }
                }
                done(&mut stack);
            }
            Event::MappingStart(..) => stack.push(Frame::Map {
                seen: BTreeSet::new(),
                key_next: true,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                done(&mut stack);
            }
            Event::Alias(_) => done(&mut stack),
            _ => {}
        }
    }
    out
}

/// The paths of duplicate fields in `body` (empty when it is not JSON).
pub fn duplicates(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = Seed {
        path: String::new(),
        out: &mut out,
    };
    if seed.deserialize(&mut de).is_err() {
        return Vec::new();
    }
    out
}

struct Seed<'a> {
    path: String,
    out: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let seed = Seed {
                path: format!("{}[{i}]", self.path),
                out: &mut *self.out,
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(k) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                k.clone()
            } else {
                format!("{}.{k}", self.path)
            };
            if !seen.insert(k) {
                self.out.push(path.clone());
            }
            map.next_value_seed(Seed {
                path,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_nested_duplicates() {
        let body = br#"{"spec": {"replicas": 1, "replicas": 2, "c": [{"n": 1, "n": 2}]}, "a": 1}"#;
        assert_eq!(
            super::duplicates(body),
            vec!["spec.replicas".to_string(), "spec.c[0].n".to_string()]
        );
        assert!(super::duplicates(b"a: 1\na: 2\n").is_empty());
        assert_eq!(
            super::messages(b"a: 1\nb:\n  c: [1, 2]\n  c: 3\na: {x: 1}\n"),
            vec!["yaml: unmarshal errors:\n  line 4: key \"c\" already set in map\n  line 5: key \"a\" already set in map".to_string()]
        );
        assert_eq!(
            super::messages(br#"{"a": 1, "a": 2}"#),
            vec!["duplicate field \"a\"".to_string()]
        );
    }
}
