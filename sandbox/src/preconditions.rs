//! `DeleteOptions.preconditions` (uid, resourceVersion): a delete that names another
//! incarnation or version of the object is refused with 409 Conflict, as the apiserver's
//! storage layer does, so a client never deletes an object it did not mean.

use crate::catalog::ResourceType;
use crate::error::ApiError;
use serde_json::Value;

/// Checks the preconditions in a DELETE body (empty body: none).
pub fn check(body: &[u8], rt: &ResourceType, name: &str, obj: &Value) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let opts: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })?;
    let Some(pre) = opts.get("preconditions").filter(|p| !p.is_null()) else {
        return Ok(());
    };
    let meta = |k: &str| {
        obj.pointer(&format!("/metadata/{k}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        if let Some(want) = pre.get(field).and_then(Value::as_str) {
            let have = meta(field);
            if want != have {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.resource,
                    name,
                    &format!(
                        "Precondition failed: {label} in precondition: {want}, {label} in object meta: {have}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    #[test]
    fn uid_and_resource_version() {
        let rt = Catalog::default().types()[1].clone();
        let obj = json!({"metadata": {"uid": "u1", "resourceVersion": "5"}});
        assert!(check(b"", &rt, "c", &obj).is_ok());
        let ok = br#"{"preconditions": {"uid": "u1", "resourceVersion": "5"}}"#;
        assert!(check(ok, &rt, "c", &obj).is_ok());
        let e = check(br#"{"preconditions": {"uid": "u2"}}"#, &rt, "c", &obj).unwrap_err();
        assert_eq!((e.code, e.reason), (409, "Conflict"));
        assert_eq!(
            e.message,
            "Operation cannot be fulfilled on configmaps \"c\": Precondition failed: UID in precondition: u2, UID in object meta: u1"
        );
        let e = check(
            br#"{"preconditions": {"resourceVersion": "4"}}"#,
            &rt,
            "c",
            &obj,
        )
        .unwrap_err();
        assert!(e
            .message
            .contains("ResourceVersion in precondition: 4, ResourceVersion in object meta: 5"));
        assert_eq!(check(b"{", &rt, "c", &obj).unwrap_err().code, 400);
    }
}
