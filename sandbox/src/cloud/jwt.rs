//! Verification of a service account's JWT for the IAM token exchange (reference §1.2):
//! PS256 only, `kid` = one of the account's keys, `iss` = the account, `aud` = the token
//! endpoint, `iat`/`exp` with `exp - iat <= 3600`.

use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use rsa::pss::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::Sha256;

/// The audience of the real token endpoint.
pub const AUDIENCE: &str = "https://iam.api.cloud.yandex.net/iam/v1/tokens";
const MAX_LIFETIME_S: i64 = 3600;
const CLOCK_SKEW_S: i64 = 300;

/// What the key id names: the owning service account and the public key (PEM).
pub struct KeyInfo {
    pub service_account_id: String,
    pub public_key_pem: String,
}

fn part(p: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p.trim_end_matches('='))
        .map_err(|_| "the JWT is not base64url".to_string())
}

fn json_part(p: &str, what: &str) -> Result<Value, String> {
    serde_json::from_slice(&part(p)?).map_err(|_| format!("the JWT {what} is not JSON"))
}

fn seconds(v: &Value, name: &str) -> Result<i64, String> {
    v.get(name)
        .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
        .ok_or_else(|| format!("the JWT has no numeric {name}"))
}

/// Checks `token` at `now` (Unix seconds); returns the service account it authenticates.
/// `audiences` are the accepted `aud` values; `key` looks a key id up.
pub fn verify(
    token: &str,
    now: i64,
    audiences: &[String],
    key: impl Fn(&str) -> Option<KeyInfo>,
) -> Result<String, String> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err("the JWT must have three parts".into());
    };
    let header = json_part(h, "header")?;
    if header.get("alg").and_then(Value::as_str) != Some("PS256") {
        return Err("the JWT algorithm must be PS256".into());
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("the JWT header has no kid")?;
    let info = key(kid).ok_or_else(|| format!("key \"{kid}\" not found"))?;
    let public = RsaPublicKey::from_public_key_pem(&info.public_key_pem)
        .map_err(|_| format!("key \"{kid}\" is unusable"))?;
    let sig = Signature::try_from(part(s)?.as_slice()).map_err(|_| "bad JWT signature")?;
    let signed = format!("{h}.{p}");
    // Salt of the digest's length (RFC 7518), or the largest (some libraries' default).
    let max_salt = public.size().saturating_sub(32 + 2);
    let valid = [32, max_salt].iter().any(|salt| {
        VerifyingKey::<Sha256>::new_with_salt_len(public.clone(), *salt)
            .verify(signed.as_bytes(), &sig)
            .is_ok()
    });
    if !valid {
        return Err("the JWT signature is invalid".into());
    }
    let claims = json_part(p, "payload")?;
    if claims.get("iss").and_then(Value::as_str) != Some(info.service_account_id.as_str()) {
        return Err(format!(
            "the JWT issuer must be the service account of key \"{kid}\""
        ));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .any(|x| audiences.iter().any(|y| y == x)),
        _ => false,
    };
    if !aud_ok {
        return Err(format!("the JWT audience must be {AUDIENCE}"));
    }
    let (iat, exp) = (seconds(&claims, "iat")?, seconds(&claims, "exp")?);
    if exp <= now {
        return Err("the JWT has expired".into());
    }
    if iat > now + CLOCK_SKEW_S {
        return Err("the JWT is issued in the future".into());
    }
    if exp < iat || exp.saturating_sub(iat) > MAX_LIFETIME_S {
        return Err("the JWT lifetime (exp - iat) must not exceed 3600 seconds".into());
    }
    Ok(info.service_account_id)
}
