//! Repairs on recorded state (`state rm`, `state mv`): they change only the record, never the
//! real objects. An address may name one resource or, as `module.NAME`, a whole module instance.

use super::model::State;
use crate::diag::did_you_mean;

/// Forgets `address` (or every resource under `module.X` when `address` is a module instance).
/// Returns the removed addresses, sorted.
pub fn remove_address(state: &mut State, address: &str) -> Result<Vec<String>, String> {
    let matched = matching(state, address);
    if matched.is_empty() {
        return Err(not_in_state(state, address));
    }
    for a in &matched {
        state.remove(a);
    }
    Ok(matched)
}

/// Renames `from` to `to` (a resource, or a module instance with everything under it), and
/// rewrites other resources' recorded dependencies to match. Refuses when `from` is not in the
/// state or when any new address is already taken. Returns the `(old, new)` pairs, sorted.
pub fn move_address(
    state: &mut State,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String)>, String> {
    check_address(to)?;
    if from == to {
        return Err(format!("`{from}` and `{to}` are the same address"));
    }
    let exact = state.resource(from).is_some();
    let matched = matching(state, from);
    if matched.is_empty() {
        return Err(not_in_state(state, from));
    }
    if !exact && !to.starts_with("module.") {
        return Err(format!(
            "`{from}` is a module instance; move it to another module instance (`module.NAME`), \
             not to `{to}`"
        ));
    }
    let renames: Vec<(String, String)> = matched
        .into_iter()
        .map(|old| {
            let new = format!("{to}{}", &old[from.len()..]);
            (old, new)
        })
        .collect();
    let under_to = format!("{to}.");
    if let Some(taken) = state.resources.iter().find(|r| {
        renames.iter().any(|(_, new)| *new == r.address)
            || (!exact && r.address.starts_with(&under_to))
    }) {
        return Err(format!(
            "`{}` is already in the state; remove it first (`mlstack state rm`) or choose \
             another address",
            taken.address
        ));
    }
    for (old, new) in &renames {
        if let Some(mut r) = state.remove(old) {
            r.address = new.clone();
            state.upsert(r);
        }
    }
    for r in &mut state.resources {
        for dep in &mut r.dependencies {
            if let Some((_, new)) = renames.iter().find(|(old, _)| old == dep) {
                *dep = new.clone();
            }
        }
    }
    Ok(renames)
}

/// The resources `address` names: itself, or everything under a module instance.
fn matching(state: &State, address: &str) -> Vec<String> {
    if state.resource(address).is_some() {
        return vec![address.to_string()];
    }
    if !address.starts_with("module.") {
        return Vec::new();
    }
    let prefix = format!("{address}.");
    let mut found: Vec<String> = state
        .resources
        .iter()
        .filter(|r| r.address.starts_with(&prefix))
        .map(|r| r.address.clone())
        .collect();
    found.sort();
    found
}

/// "`x` is not in the state", with the nearest recorded address suggested.
pub fn not_in_state(state: &State, address: &str) -> String {
    let hint = did_you_mean(address, state.resources.iter().map(|r| r.address.as_str()))
        .map(|h| format!("; {h}"))
        .unwrap_or_default();
    format!("no resource `{address}` in the state{hint}")
}

fn check_address(address: &str) -> Result<(), String> {
    if address.is_empty() || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{address}` is not an address (addresses have no spaces: `NAME`, \
             `module.INSTANCE.NAME`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Mode;
    use crate::state::ResourceState;

    fn res(address: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            address: address.into(),
            mode: Mode::Managed,
            type_name: "random_id".into(),
            provider: "random".into(),
            id: None,
            attributes: serde_json::json!({}),
            sensitive_attributes: Vec::new(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            prevent_destroy: false,
        }
    }

    fn state(rs: Vec<ResourceState>) -> State {
        let mut s = State::new();
        rs.into_iter().for_each(|r| s.upsert(r));
        s
    }

    fn addresses(s: &State) -> Vec<&str> {
        s.resources.iter().map(|r| r.address.as_str()).collect()
    }

    #[test]
    fn rm_one_and_module() {
        let mut s = state(vec![
            res("a", &[]),
            res("module.m.x", &[]),
            res("module.m.y", &[]),
            res("module.mm.z", &[]),
        ]);
        assert_eq!(remove_address(&mut s, "a").unwrap(), vec!["a"]);
        assert_eq!(
            remove_address(&mut s, "module.m").unwrap(),
            vec!["module.m.x", "module.m.y"]
        );
        assert_eq!(addresses(&s), vec!["module.mm.z"]);
        let err = remove_address(&mut s, "module.mm.zz").unwrap_err();
        assert!(err.contains("did you mean `module.mm.z`"), "{err}");
    }

    #[test]
    fn mv_renames_and_rewrites_dependencies() {
        let mut s = state(vec![
            res("a", &[]),
            res("b", &["a"]),
            res("module.m.x", &["a"]),
        ]);
        move_address(&mut s, "a", "c").unwrap();
        assert_eq!(addresses(&s), vec!["b", "c", "module.m.x"]);
        assert_eq!(s.resource("b").unwrap().dependencies, vec!["c"]);
        move_address(&mut s, "module.m", "module.n").unwrap();
        assert_eq!(addresses(&s), vec!["b", "c", "module.n.x"]);
        assert!(move_address(&mut s, "b", "c")
            .unwrap_err()
            .contains("already in the state"));
        assert!(move_address(&mut s, "zz", "y")
            .unwrap_err()
            .contains("no resource `zz`"));
        assert!(move_address(&mut s, "b", "a b").is_err());
        assert!(move_address(&mut s, "module.n", "x").is_err());
    }
}
