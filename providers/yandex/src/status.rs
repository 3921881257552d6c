//! Errors of the cloud API (`google.rpc.Status` bodies, reference §2.2) and of the transport,
//! classified for retries, "gone" checks and MDB's `conflicting operation` answers.

use serde_json::Value as Json;
use std::fmt;

/// One failed call or operation. The message never holds a credential: the client scrubs the
/// secrets it knows before building one.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status; `None` for a transport failure (connection refused or dropped, timeout).
    pub http: Option<u16>,
    /// The gRPC code of the status body (0 when there was none).
    pub code: i64,
    pub message: String,
    /// No HTTP answer at all: worth retrying.
    pub transport: bool,
}

/// The code of an error the provider raised itself (no API involved).
const LOCAL: i64 = -1;

/// The names of gRPC status codes, as the API documents them.
pub fn code_name(code: i64) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "NOT_IMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// The gRPC code an HTTP status stands for when the body carries none.
fn code_of_http(status: u16) -> i64 {
    match status {
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        409 => 6,
        429 => 8,
        499 => 1,
        501 => 12,
        503 => 14,
        504 => 4,
        500..=599 => 13,
        _ => 2,
    }
}

impl ApiError {
    /// A transport failure (no HTTP answer).
    pub fn transport(message: impl Into<String>) -> Self {
        ApiError {
            http: None,
            code: 14,
            message: message.into(),
            transport: true,
        }
    }

    /// A failure of the provider itself (bad answer shape, local file), never retried.
    pub fn local(message: impl Into<String>) -> Self {
        ApiError {
            http: None,
            code: LOCAL,
            message: message.into(),
            transport: false,
        }
    }

    /// An HTTP answer outside 2xx, from its body (a `google.rpc.Status` or anything else).
    pub fn from_response(status: u16, body: &str) -> Self {
        let parsed: Option<Json> = serde_json::from_str(body).ok();
        let code = parsed
            .as_ref()
            .and_then(|j| j.get("code"))
            .and_then(crate::convert::int)
            .unwrap_or_else(|| code_of_http(status));
        let message = parsed
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                let text: String = body.trim().chars().take(200).collect();
                if text.is_empty() {
                    format!("HTTP {status}")
                } else {
                    text
                }
            });
        ApiError {
            http: Some(status),
            code,
            message,
            transport: false,
        }
    }

    /// An `Operation.error` (same shape, no HTTP status).
    pub fn from_status(status: &Json) -> Self {
        ApiError {
            http: None,
            code: status
                .get("code")
                .and_then(crate::convert::int)
                .unwrap_or(2),
            message: status
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
            transport: false,
        }
    }

    /// Worth another try: a dropped connection, throttling (429, RESOURCE_EXHAUSTED), a
    /// transient server error (500 INTERNAL, 502, 503 UNAVAILABLE, 504) or a concurrency
    /// conflict the server aborted (ABORTED, 409 code 10; not ALREADY_EXISTS, 409 code 6).
    pub fn retryable(&self) -> bool {
        match self.http {
            None => self.transport,
            Some(s) => {
                matches!(s, 429 | 500 | 502 | 503 | 504) || matches!(self.code, 8 | 10 | 13 | 14)
            }
        }
    }

    pub fn not_found(&self) -> bool {
        self.http == Some(404) || (self.http.is_some() && self.code == 5)
    }

    pub fn unauthenticated(&self) -> bool {
        self.http == Some(401) || self.code == 16
    }

    /// The id in an MDB `conflicting operation "<id>" detected` answer.
    pub fn conflicting_operation(&self) -> Option<String> {
        conflicting_operation(&self.message)
    }
}

/// The operation id in a message such as `conflicting operation "mdb1x2y3" detected`.
pub fn conflicting_operation(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("conflicting operation")?;
    let rest = &message[at + "conflicting operation".len()..];
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let id = rest[..end].trim_matches(|c| c == '(' || c == ')');
    (!id.is_empty()).then(|| id.to_string())
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.http {
            None if self.transport || self.code == LOCAL => write!(f, "{}", self.message),
            None => write!(f, "{}: {}", code_name(self.code), self.message),
            Some(s) => write!(f, "{} (HTTP {s}): {}", code_name(self.code), self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bodies_are_parsed_and_classified() {
        let e = ApiError::from_response(
            503,
            r#"{"code": 14, "message": "Try again in a few seconds", "details": []}"#,
        );
        assert_eq!(e.code, 14);
        assert!(e.retryable());
        assert_eq!(
            e.to_string(),
            "UNAVAILABLE (HTTP 503): Try again in a few seconds"
        );
        let e = ApiError::from_response(429, "");
        assert!(e.retryable() && e.code == 8);
        let e = ApiError::from_response(500, "<html>boom</html>");
        assert!(e.retryable() && e.message.contains("boom"));
        let e = ApiError::from_response(404, r#"{"code": 5, "message": "Network x not found"}"#);
        assert!(e.not_found() && !e.retryable());
        let e = ApiError::from_response(409, r#"{"code": 10, "message": "aborted"}"#);
        assert!(e.retryable());
        let e = ApiError::from_response(409, r#"{"code": 6, "message": "exists"}"#);
        assert!(e.code == 6 && !e.retryable());
        let e = ApiError::from_response(400, r#"{"code": 3, "message": "bad"}"#);
        assert!(!e.retryable());
        assert!(ApiError::transport("connection reset").retryable());
        assert!(!ApiError::local("bad key file").retryable());
        let e = ApiError::from_response(401, r#"{"code":16,"message":"expired"}"#);
        assert!(e.unauthenticated());
    }

    #[test]
    fn conflicting_operation_ids_are_found() {
        assert_eq!(
            conflicting_operation(r#"conflicting operation "mdbq1w2e3r4t5y6u7i8o" detected"#)
                .as_deref(),
            Some("mdbq1w2e3r4t5y6u7i8o")
        );
        assert_eq!(
            conflicting_operation(
                r#"Cluster is busy: Conflicting operation "(abc123)" detected, retry later"#
            )
            .as_deref(),
            Some("abc123")
        );
        assert_eq!(
            conflicting_operation("conflicting operation detected"),
            None
        );
        assert_eq!(conflicting_operation("no conflict"), None);
        let e = ApiError::from_response(
            400,
            r#"{"code": 9, "message": "conflicting operation \"op1\" detected"}"#,
        );
        assert_eq!(e.conflicting_operation().as_deref(), Some("op1"));
    }
}
