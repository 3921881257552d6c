//! AWS Signature Version 4, as S3 and every S3-compatible store (Yandex Object Storage, MinIO,
//! moto) expect it: canonical request, string to sign, derived signing key, `Authorization`
//! header. Pure functions, checked against AWS's published examples.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

type HmacSha256 = Hmac<Sha256>;

/// Access keys. `Debug` shows only the access key id.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    /// `AWS_SESSION_TOKEN` for temporary credentials (sent as `x-amz-security-token`).
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// The parts of a request that are signed.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent, already URI-encoded (S3 encodes once; see [`uri_encode`]).
    pub path: &'a str,
    /// Query parameters, not encoded.
    pub query: &'a [(String, String)],
    /// Headers to sign (names in any case); must include `host` and `x-amz-date`.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body (also sent as `x-amz-content-sha256`).
    pub payload_hash: &'a str,
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `YYYYMMDDTHHMMSSZ` in UTC.
pub fn amz_date(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect()
}

/// RFC 3986 encoding as SigV4 wants it: everything but `A-Z a-z 0-9 - . _ ~` percent-encoded
/// (upper-case hex), `/` kept when `keep_slash` (object key paths).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The canonical request and the `SignedHeaders` list.
pub fn canonical_request(req: &Request<'_>) -> (String, String) {
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    // Lower-case names, trimmed values with inner runs of spaces collapsed, duplicates joined
    // with commas, sorted by name.
    let mut headers: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, value) in req.headers {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        headers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value);
    }
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.join(",")))
        .collect();
    let signed = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let path = if req.path.is_empty() { "/" } else { req.path };
    (
        format!(
            "{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{}",
            req.method, req.payload_hash
        ),
        signed,
    )
}

/// `AWS4-HMAC-SHA256\n<date>\n<scope>\n<hash of canonical request>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

/// The key derived from the secret for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// The `Authorization` header for `req`, signed at `amz_date` (which `req`'s `x-amz-date`
/// header must carry).
pub fn authorization(
    creds: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
    req: &Request<'_>,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let (canonical, signed) = canonical_request(req);
    let sts = string_to_sign(amz_date, &scope, &canonical);
    let key = signing_key(&creds.secret_key, date, region, service);
    let signature = hex(&hmac(&key, sts.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope},SignedHeaders={signed},Signature={signature}",
        creds.access_key
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    //! AWS's published examples: the S3 SigV4 header-signing examples (GET Object, PUT
    //! Object, GET Bucket Lifecycle, list objects) and `get-vanilla` from the SigV4 test suite.
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn s3_creds() -> Credentials {
        Credentials {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn s3_get_object() {
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let req = Request {
            method: "GET",
            path: "/test.txt",
            query: &[],
            headers: &headers,
            payload_hash: EMPTY,
        };
        let (canonical, _) = canonical_request(&req);
        let sts = string_to_sign(
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            &canonical,
        );
        assert!(sts.ends_with("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
        assert_eq!(
            authorization(&s3_creds(), "us-east-1", "s3", "20130524T000000Z", &req),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn s3_put_object() {
        let body = b"Welcome to Amazon S3.";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", &hash),
        ]);
        let path = format!("/{}", uri_encode("test$file.text", true));
        assert_eq!(path, "/test%24file.text");
        let req = Request {
            method: "PUT",
            path: &path,
            query: &[],
            headers: &headers,
            payload_hash: &hash,
        };
        assert!(
            authorization(&s3_creds(), "us-east-1", "s3", "20130524T000000Z", &req).ends_with(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,\
                 Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
            )
        );
    }

    #[test]
    fn s3_queries() {
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", EMPTY),
        ]);
        let sign = |query: &[(String, String)]| {
            authorization(
                &s3_creds(),
                "us-east-1",
                "s3",
                "20130524T000000Z",
                &Request {
                    method: "GET",
                    path: "/",
                    query,
                    headers: &headers,
                    payload_hash: EMPTY,
                },
            )
        };
        assert!(sign(&h(&[("lifecycle", "")]))
            .ends_with("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
        // Given out of order: canonical order is by name.
        assert!(sign(&h(&[("prefix", "J"), ("max-keys", "2")]))
            .ends_with("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
    }

    #[test]
    fn suite_get_vanilla() {
        let creds = Credentials {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let headers = h(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ]);
        let req = Request {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            payload_hash: EMPTY,
        };
        assert_eq!(
            authorization(&creds, "us-east-1", "service", "20150830T123600Z", &req),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .replace(", ", ",")
        );
    }

    #[test]
    fn header_values_are_trimmed_and_dates_formatted() {
        let headers = h(&[("My-Header1", "  a   b   c  "), ("host", "x")]);
        let req = Request {
            method: "GET",
            path: "",
            query: &[],
            headers: &headers,
            payload_hash: EMPTY,
        };
        let (c, signed) = canonical_request(&req);
        assert!(c.contains("my-header1:a b c\n"), "{c}");
        assert_eq!(signed, "host;my-header1");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_600);
        assert_eq!(amz_date(t), "20130524T000000Z");
        assert_eq!(uri_encode("a b/ü", false), "a%20b%2F%C3%BC");
    }
}
