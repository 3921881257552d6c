//! Just enough YAML for kubeconfig files: mappings, sequences and scalars (every scalar a
//! string, which is all a kubeconfig holds that we read).

use saphyr_parser::{Event, Parser};
use serde_json::{Map, Value};

enum Frame {
    Seq(Vec<Value>),
    Map(Map<String, Value>, Option<String>),
}

/// Parses the first YAML document of `text`; scalars become strings (`~`/empty: null).
pub fn parse(text: &str) -> Result<Value, String> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    for ev in Parser::new_from_str(text) {
        let (ev, _) = ev.map_err(|e| format!("invalid YAML: {}", e.info()))?;
        let value = match ev {
            Event::Scalar(s, _, _, _) => match &*s {
                "" | "~" | "null" => Value::Null,
                _ => Value::String(s.to_string()),
            },
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(Map::new(), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(v)) => Value::Array(v),
                Some(Frame::Map(m, _)) => Value::Object(m),
                None => return Err("unbalanced YAML".into()),
            },
            Event::Alias(_) => return Err("YAML aliases are not supported".into()),
            Event::DocumentEnd if root.is_some() => break,
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq(v)) => v.push(value),
            Some(Frame::Map(m, key)) => match key.take() {
                None => *key = Some(value.as_str().unwrap_or("null").to_string()),
                Some(k) => {
                    m.insert(k, value);
                }
            },
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_nested_documents() {
        let v = super::parse("a:\n- name: x\n  b: {c: 1}\nd: ~\n").unwrap();
        assert_eq!(v["a"][0]["b"]["c"], "1");
        assert!(v["d"].is_null());
        assert!(super::parse("a: &x 1\nb: *x\n").is_err());
    }
}
