//! The JWT a service account's authorized key signs to get an IAM token (reference §1.2):
//! header `{typ: JWT, alg: PS256, kid}`, payload `{iss, aud, iat, exp}` with `exp - iat` one hour,
//! signed with RSASSA-PSS over SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::RsaPrivateKey;
use sha2::Sha256;

/// Where the JWT is exchanged, and its audience.
pub const AUDIENCE: &str = "https://iam.api.cloud.yandex.net/iam/v1/tokens";

/// A JWT lives one hour, the most IAM accepts.
pub const LIFETIME_SECS: u64 = 3600;

/// An authorized key file (`yc iam key create -o key.json`). Not `Debug`: it holds the key.
pub struct KeyFile {
    pub id: String,
    pub service_account_id: String,
    private_key: String,
}

impl KeyFile {
    /// Parses the key file's JSON. Errors name the problem, never the file's content.
    pub fn parse(text: &str) -> Result<KeyFile, String> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "the service account key file is not JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let field = |k: &str| {
            json.get(k)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("the service account key file has no `{k}`"))
        };
        Ok(KeyFile {
            id: field("id")?,
            service_account_id: field("service_account_id")?,
            private_key: field("private_key")?,
        })
    }

    /// The private key, without the `PLEASE DO NOT REMOVE THIS LINE!` line some files carry.
    fn key(&self) -> Result<RsaPrivateKey, String> {
        let pem = strip_prefix(&self.private_key);
        RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| {
                "the service account key file's private_key is not an RSA key in PEM".to_string()
            })
    }
}

/// The PEM from its `-----BEGIN` line on (whatever precedes it is dropped).
pub fn strip_prefix(pem: &str) -> &str {
    match pem.find("-----BEGIN") {
        Some(at) => &pem[at..],
        None => pem,
    }
}

/// A signed JWT for `key`, issued at `now` (Unix seconds).
pub fn build(key: &KeyFile, now: u64) -> Result<String, String> {
    let header = serde_json::json!({"typ": "JWT", "alg": "PS256", "kid": key.id});
    let payload = serde_json::json!({
        "iss": key.service_account_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + LIFETIME_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signer = BlindedSigningKey::<Sha256>::new(key.key()?);
    let signature = signer
        .try_sign_with_rng(&mut rsa::rand_core::OsRng, signing_input.as_bytes())
        .map_err(|_| "signing the JWT failed".to_string())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::pss::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    fn key_file(private_pem: &str) -> String {
        serde_json::json!({
            "id": "ajekeyid000000000001",
            "service_account_id": "ajesaid0000000000001",
            "created_at": "2024-01-01T00:00:00Z",
            "key_algorithm": "RSA_2048",
            "public_key": "-----BEGIN PUBLIC KEY-----\n...",
            "private_key": format!("PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <ajekeyid000000000001>\n{private_pem}"),
        })
        .to_string()
    }

    #[test]
    fn jwt_is_ps256_and_verifies_with_the_public_key() {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("key generation");
        let pem = private.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let key = KeyFile::parse(&key_file(&pem)).expect("key file");
        let jwt = build(&key, 1_700_000_000).expect("jwt");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("b64")).expect("json")
        };
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"typ": "JWT", "alg": "PS256", "kid": "ajekeyid000000000001"})
        );
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "ajesaid0000000000001");
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(claims["iat"], 1_700_000_000u64);
        assert_eq!(claims["exp"], 1_700_003_600u64);
        let verifier = VerifyingKey::<Sha256>::new(private.to_public_key());
        let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).expect("b64").as_slice())
            .expect("signature");
        let input = format!("{}.{}", parts[0], parts[1]);
        verifier.verify(input.as_bytes(), &sig).expect("verifies");
        // Tampering is detected.
        assert!(verifier.verify(b"x.y", &sig).is_err());
    }

    #[test]
    fn bad_key_files_say_what_is_wrong_without_echoing_them() {
        let e = KeyFile::parse("{\"id\": \"k\", \"service_account_id\": \"s\"}")
            .err()
            .expect("missing key");
        assert!(e.contains("private_key"), "{e}");
        let e = KeyFile::parse("not json SECRETSTUFF")
            .err()
            .expect("not json");
        assert!(!e.contains("SECRETSTUFF"), "{e}");
        let k = KeyFile::parse(&key_file(
            "-----BEGIN PRIVATE KEY-----\nSECRETSTUFF\n-----END PRIVATE KEY-----\n",
        ))
        .expect("parses");
        let e = build(&k, 0).expect_err("bad pem");
        assert!(!e.contains("SECRETSTUFF"), "{e}");
        assert_eq!(strip_prefix("junk\n-----BEGIN X"), "-----BEGIN X");
    }
}
