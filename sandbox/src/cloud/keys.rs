//! Service account authorized keys: an RSA key pair generated on `POST /iam/v1/keys`,
//! answered synchronously with the private key (PKCS#8 PEM) that is never stored.

use super::clock::rfc3339;
use super::crud::{find, not_found};
use super::errors::CloudError;
use super::ids::new_id;
use super::json;
use super::state::{Record, State};
use super::types::{KEY, SERVICE_ACCOUNT};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

/// The fields of `yandex.cloud.iam.v1.CreateKeyRequest`.
const CREATE_FIELDS: &[&str] = &["serviceAccountId", "description", "format", "keyAlgorithm"];

/// A validated key request: the account's folder and the key size.
pub struct KeyRequest {
    pub service_account_id: String,
    pub folder: String,
    pub algorithm: String,
    pub bits: usize,
    pub body: Value,
}

/// Checks the body (`serviceAccountId`, `keyAlgorithm`) against the state.
pub fn prepare(st: &State, body: Value) -> Result<KeyRequest, CloudError> {
    // `CreateKeyRequest` has no `labels` (nor `name`): the REST transcoder refuses a field
    // the message lacks.
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())))
    {
        return Err(CloudError::invalid(format!(
            "Invalid JSON payload received. Unknown name \"{k}\": Cannot find field."
        )));
    }
    let sa = json::str_at(&body, "serviceAccountId")
        .ok_or_else(|| CloudError::invalid("serviceAccountId is required"))?
        .to_string();
    let folder = find(st, &SERVICE_ACCOUNT, &sa)?.folder.clone();
    let algorithm = json::str_at(&body, "keyAlgorithm")
        .unwrap_or("RSA_2048")
        .to_string();
    let bits = match algorithm.as_str() {
        "RSA_2048" => 2048,
        "RSA_4096" => 4096,
        other => {
            return Err(CloudError::invalid(format!(
                "keyAlgorithm {other} is not supported (RSA_2048, RSA_4096)"
            )))
        }
    };
    if let Some(f) = json::str_at(&body, "format").filter(|f| *f != "PEM_FILE") {
        return Err(CloudError::invalid(format!(
            "format {f} is not supported (PEM_FILE)"
        )));
    }
    Ok(KeyRequest {
        service_account_id: sa,
        folder,
        algorithm,
        bits,
        body,
    })
}

/// (public key SPKI PEM, private key PKCS#8 PEM). Slow (about a second): run it off the
/// async threads and outside the state lock.
pub fn generate(bits: usize) -> Result<(String, String), CloudError> {
    let err = |e: String| CloudError::internal(format!("key generation failed: {e}"));
    let private = RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| err(e.to_string()))?;
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| err(e.to_string()))?;
    let private_pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| err(e.to_string()))?
        .to_string();
    Ok((public_pem, private_pem))
}

/// Stores the key; returns `{"key": …, "privateKey": …}`.
pub fn store(
    st: &mut State,
    req: KeyRequest,
    public_pem: String,
    private_pem: String,
    now: u64,
) -> Result<Value, CloudError> {
    if st
        .get(SERVICE_ACCOUNT.kind, &req.service_account_id)
        .is_none()
    {
        return Err(not_found(&SERVICE_ACCOUNT, &req.service_account_id));
    }
    let id = new_id(KEY.id_prefix);
    let mut resource = json!({
        "id": id,
        "serviceAccountId": req.service_account_id,
        "createdAt": rfc3339(now),
        "keyAlgorithm": req.algorithm,
        "publicKey": public_pem,
    });
    for f in ["description"] {
        if let Some(v) = req.body.get(f) {
            resource[f] = v.clone();
        }
    }
    let seq = st.next_seq();
    st.put(Record {
        kind: KEY.kind.into(),
        key: id,
        seq,
        folder: req.folder,
        parent: Some(req.service_account_id),
        resource: resource.clone(),
        extra: Default::default(),
    })?;
    Ok(json!({"key": resource, "privateKey": private_pem}))
}
