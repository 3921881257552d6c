//! Identifiers (20 lowercase alphanumerics, as the cloud's) and unguessable secrets.

use rsa::rand_core::{OsRng, RngCore};

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A resource or operation id: the type's three-letter prefix and random characters.
pub fn new_id(prefix: &str) -> String {
    let mut id: String = prefix.chars().take(3).collect();
    while id.len() < 20 {
        id.push(LOWER[fastrand::usize(..LOWER.len())] as char);
    }
    id
}

/// `len` characters from `alphabet`, drawn from the operating system's generator.
pub fn secret(len: usize, alphabet: &[u8]) -> String {
    let mut bytes = vec![0u8; len];
    OsRng.fill_bytes(&mut bytes);
    // 64 and 36 symbols: a modulo bias is irrelevant for an emulator's tokens.
    bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect()
}

/// An IAM token of the documented shape `t1.<payload>.<86 characters>`.
pub fn iam_token() -> String {
    format!("t1.{}.{}", secret(44, URL_SAFE), secret(86, URL_SAFE))
}

/// An OAuth token of the Yandex ID shape (`y0_…`).
pub fn oauth_token() -> String {
    format!("y0_{}", secret(55, URL_SAFE))
}

/// A static bearer token (a cluster's own Kubernetes token).
pub fn static_token() -> String {
    secret(40, LOWER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = new_id("enp");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("enp"));
        assert!(id.bytes().all(|b| LOWER.contains(&b)));
        let t = iam_token();
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!((parts.len(), parts[0], parts[2].len()), (3, "t1", 86));
    }
}
