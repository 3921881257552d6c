//! IAM authentication of the cloud emulator: OAuth and JWT token exchange (the JWT signed
//! with a key created through the API), refusals, and 401 without a valid IAM token.

mod common;

use base64::Engine;
use common::cloud::{quick, start};
use common::Client;
use rsa::pkcs8::DecodePrivateKey;
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

const AUD: &str = "https://iam.api.cloud.yandex.net/iam/v1/tokens";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A PS256 JWT as the Yandex SDKs build it.
fn jwt(private_pem: &str, kid: &str, payload: &Value) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap();
    let header = json!({"typ": "JWT", "alg": "PS256", "kid": kid});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signer = BlindedSigningKey::<sha2::Sha256>::new(key);
    let sig = signer.sign_with_rng(&mut rsa::rand_core::OsRng, input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_exchange_and_refusals() {
    let (h, c) = start(quick()).await;
    // 401 without a token, with a bogus one, and with the OAuth token itself.
    let mut anon = Client::to(&h.endpoint, &h.ca_pem, None);
    let (code, body) = anon.get("/vpc/v1/networks?folderId=f").await;
    assert_eq!((code, body["code"].as_u64()), (401, Some(16)), "{body}");
    anon.token = Some("t1.bogus.token".into());
    assert_eq!(anon.get("/vpc/v1/networks?folderId=f").await.0, 401);
    anon.token = Some(h.oauth_token.clone());
    assert_eq!(anon.get("/vpc/v1/networks?folderId=f").await.0, 401);
    // …but the OAuth token may read the sandbox status.
    let (code, st) = anon.get("/sandbox/v1/status").await;
    assert_eq!(code, 200, "{st}");
    assert!(st["counts"]["vpc.network"].is_number());

    let (code, body) = anon
        .post(
            "/iam/v1/tokens",
            &json!({"yandexPassportOauthToken": "y0_wrong"}),
        )
        .await;
    assert_eq!((code, body["code"].as_u64()), (401, Some(16)));
    let (code, body) = anon
        .post(
            "/iam/v1/tokens",
            &json!({"yandexPassportOauthToken": h.oauth_token}),
        )
        .await;
    assert_eq!(code, 200);
    let token = body["iamToken"].as_str().unwrap();
    assert!(token.starts_with("t1."), "token shape");
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));
    let (code, _) = anon.post("/iam/v1/tokens", &json!({})).await;
    assert_eq!(code, 400);

    // A service account and its authorized key, created through the API.
    let op = c
        .create(
            "/iam/v1/serviceAccounts",
            &json!({"folderId": "f", "name": "deployer"}),
        )
        .await;
    let sa = op["metadata"]["serviceAccountId"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, key) = c
        .post(
            "/iam/v1/keys",
            &json!({"serviceAccountId": sa, "description": "ci"}),
        )
        .await;
    assert_eq!(code, 200, "{key}");
    let private = key["privateKey"].as_str().unwrap().to_string();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    let kid = key["key"]["id"].as_str().unwrap().to_string();
    assert_eq!(key["key"]["serviceAccountId"], sa.as_str());
    assert_eq!(key["key"]["keyAlgorithm"], "RSA_2048");
    assert!(key["key"]["publicKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let (_, listed) = c.get(&format!("/iam/v1/keys?serviceAccountId={sa}")).await;
    assert_eq!(listed["keys"][0]["id"], kid.as_str());
    assert!(listed["keys"][0].get("privateKey").is_none());

    let t = now();
    let good = json!({"iss": sa, "aud": AUD, "iat": t, "exp": t + 3600});
    let (code, body) = anon
        .post(
            "/iam/v1/tokens",
            &json!({"jwt": jwt(&private, &kid, &good)}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let mut as_sa = Client::to(
        &h.endpoint,
        &h.ca_pem,
        body["iamToken"].as_str().map(String::from),
    );
    let (code, op) = as_sa
        .post(
            "/vpc/v1/networks",
            &json!({"folderId": "f", "name": "by-sa"}),
        )
        .await;
    assert_eq!((code, op["createdBy"].as_str()), (200, Some(sa.as_str())));

    let refused = |payload: Value, kid: &str, pem: &str| {
        let token = jwt(pem, kid, &payload);
        let anon = &anon;
        async move {
            let (code, body) = anon.post("/iam/v1/tokens", &json!({"jwt": token})).await;
            assert_eq!((code, body["code"].as_u64()), (401, Some(16)), "{body}");
            body["message"].as_str().unwrap().to_string()
        }
    };
    // Expired, too long-lived, wrong audience, wrong issuer, unknown key.
    let m = refused(
        json!({"iss": sa, "aud": AUD, "iat": t - 7200, "exp": t - 3600}),
        &kid,
        &private,
    )
    .await;
    assert!(m.contains("expired"), "{m}");
    let m = refused(
        json!({"iss": sa, "aud": AUD, "iat": t, "exp": t + 7200}),
        &kid,
        &private,
    )
    .await;
    assert!(m.contains("3600"), "{m}");
    refused(
        json!({"iss": sa, "aud": "https://example.com", "iat": t, "exp": t + 60}),
        &kid,
        &private,
    )
    .await;
    refused(
        json!({"iss": "ajeother", "aud": AUD, "iat": t, "exp": t + 60}),
        &kid,
        &private,
    )
    .await;
    refused(good.clone(), "ajknosuchkey", &private).await;
    // A bad signature: signed by another key of the same account, presented under `kid`.
    let (_, other) = c
        .post("/iam/v1/keys", &json!({"serviceAccountId": sa}))
        .await;
    let other_pem = other["privateKey"].as_str().unwrap();
    let m = refused(good.clone(), &kid, other_pem).await;
    assert!(m.contains("signature"), "{m}");
    // A tampered payload.
    let token = jwt(&private, &kid, &good);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = json!({"iss": sa, "aud": AUD, "iat": t, "exp": t + 3000});
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    let (code, _) = anon.post("/iam/v1/tokens", &json!({"jwt": tampered})).await;
    assert_eq!(code, 401);

    // Deleting the key: its JWTs are refused.
    let op = c.delete(&format!("/iam/v1/keys/{kid}")).await.1;
    c.wait(&op).await;
    refused(good, &kid, &private).await;
    as_sa.token = None;
    h.shutdown().await;
}
