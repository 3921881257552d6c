//! Errors as the cloud words them: a `google.rpc.Status` body (`code`, `message`,
//! `details` with a request id) and the HTTP status of the gRPC code (reference §2.2).

use serde_json::{json, Value};

/// A failed call: gRPC code and a message that never contains a secret.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudError {
    pub code: u8,
    pub message: String,
}

impl CloudError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CloudError {
            code,
            message: message.into(),
        }
    }

    /// INVALID_ARGUMENT (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        CloudError::new(3, message)
    }

    /// NOT_FOUND (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        CloudError::new(5, message)
    }

    /// ALREADY_EXISTS (409).
    pub fn already_exists(message: impl Into<String>) -> Self {
        CloudError::new(6, message)
    }

    /// FAILED_PRECONDITION (400).
    pub fn precondition(message: impl Into<String>) -> Self {
        CloudError::new(9, message)
    }

    /// NOT_IMPLEMENTED (501): a real method the emulator does not offer.
    pub fn unimplemented(message: impl Into<String>) -> Self {
        CloudError::new(12, message)
    }

    /// INTERNAL (500).
    pub fn internal(message: impl Into<String>) -> Self {
        CloudError::new(13, message)
    }

    /// UNAUTHENTICATED (401).
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        CloudError::new(16, message)
    }

    /// The MDB refusal while another operation runs on the same cluster.
    pub fn conflicting(op_id: &str) -> Self {
        CloudError::precondition(format!("conflicting operation \"{op_id}\" detected"))
    }

    /// The HTTP status this error is answered with.
    pub fn http(&self) -> u16 {
        http_of(self.code)
    }

    /// The `google.rpc.Status` body.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "message": self.message,
            "details": [{
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "requestId": uuid::Uuid::new_v4().to_string(),
            }],
        })
    }
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code {}: {}", self.code, self.message)
    }
}

impl std::error::Error for CloudError {}

/// gRPC code → HTTP status (reference §2.2).
pub fn http_of(code: u8) -> u16 {
    match code {
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

/// HTTP status → the gRPC code an injected fault reports with it.
pub fn code_of_http(http: u16) -> u8 {
    match http {
        499 => 1,
        400 => 3,
        504 => 4,
        404 => 5,
        409 => 10,
        403 => 7,
        429 => 8,
        501 => 12,
        502 | 503 => 14,
        401 => 16,
        _ => 13,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_for_injected_faults() {
        for (http, code) in [(429, 8), (500, 13), (503, 14), (409, 10)] {
            assert_eq!(code_of_http(http), code);
            assert_eq!(http_of(code), http);
        }
        let b = CloudError::conflicting("op1").body();
        assert_eq!(b["code"], 9);
        assert_eq!(b["message"], "conflicting operation \"op1\" detected");
        assert_eq!(
            b["details"][0]["@type"],
            "type.googleapis.com/google.rpc.RequestInfo"
        );
    }
}
