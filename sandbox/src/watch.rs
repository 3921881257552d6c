//! `?watch=true`: a chunked stream of JSON watch events, one per line, as the real
//! apiserver sends them. The request is checked and its starting point computed under the
//! API's lock; the stream then runs in its own task, taking the lock only to read new
//! events from the history and waiting for changes without it. It ends at
//! `timeoutSeconds`, when the client goes away, or when the server shuts down (the
//! connection and with it the body are dropped).

use crate::api::{as_version, Api, Request};
use crate::catalog::ResourceType;
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::paginate::Filter;
use crate::router::{route, Route};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Frame;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK.
const BOOKMARK_EVERY: Duration = Duration::from_secs(2);
/// A watch without `timeoutSeconds` ends after this long (the real server picks 30–60 min).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// A response body: a whole JSON document, or a watch stream fed by its task.
pub(crate) enum Body {
    Full(Full<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl From<Full<Bytes>> for Body {
    fn from(b: Full<Bytes>) -> Self {
        Body::Full(b)
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(f) => Pin::new(f).poll_frame(cx),
            Body::Stream(rx) => rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(f) => f.is_end_stream(),
            Body::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Full(f) => f.size_hint(),
            Body::Stream(_) => hyper::body::SizeHint::default(),
        }
    }
}

/// Whether the request is a watch (`GET ...?watch=true`).
pub(crate) fn is_watch(req: &Request) -> bool {
    req.method == "GET"
        && req
            .query
            .get("watch")
            .is_some_and(|v| v == "true" || v == "1")
}

/// What a running watch needs after its start.
struct Plan {
    rt: ResourceType,
    filter: Filter,
    /// Lines to send first (initial ADDED events, replayed events, or an ERROR).
    first: Vec<Bytes>,
    /// The resourceVersion the stream has reached.
    rv: u64,
    /// Whether the stream ends after `first` (an ERROR event).
    done: bool,
    bookmarks: bool,
    timeout: Duration,
    changes: tokio::sync::watch::Receiver<u64>,
}

/// Starts a watch: a plain error response when the request is wrong, else the stream.
pub(crate) fn start(
    api: Arc<Mutex<Api>>,
    req: &Request,
) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let plan = {
        let guard = api
            .lock()
            .map_err(|_| ApiError::new(500, "InternalError", "the sandbox state is poisoned"))?;
        plan(&guard, req)?
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(run(api, plan, tx));
    Ok(rx)
}

fn not_served() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn flag(req: &Request, name: &str) -> Option<bool> {
    req.query.get(name).map(|v| v == "true" || v == "1")
}

fn plan(api: &Api, req: &Request) -> Result<Plan, ApiError> {
    let Route::Resource(t) = route(&req.path) else {
        return Err(not_served());
    };
    let rt = api
        .catalog
        .find(&t.group, &t.version, &t.resource)
        .cloned()
        .ok_or_else(not_served)?;
    if t.subresource.is_some()
        || (t.namespace.is_some() && !rt.namespaced)
        || (t.name.is_some() && t.namespace.is_none() && rt.namespaced)
    {
        return Err(not_served());
    }
    let mut filter = Filter::from_request(req, t.namespace.as_deref())?;
    if let Some(name) = &t.name {
        filter = filter.with_name(name);
    }
    let bookmarks = flag(req, "allowWatchBookmarks").unwrap_or(false);
    let send_initial = flag(req, "sendInitialEvents");
    let rv_param = req
        .query
        .get("resourceVersion")
        .map(|s| s.trim())
        .unwrap_or("");
    if send_initial.is_some() {
        let mut why = Vec::new();
        if req.query.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan") {
            why.push("resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
        }
        if send_initial == Some(true) && !bookmarks {
            why.push("allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true");
        }
        if !why.is_empty() {
            return Err(ApiError::new(
                422,
                "Invalid",
                format!(
                    "ListOptions.meta.k8s.io \"\" is invalid: [{}]",
                    why.join(", ")
                ),
            ));
        }
    }
    let timeout = match req.query.get("timeoutSeconds").map(|s| s.trim()) {
        None | Some("") => DEFAULT_TIMEOUT,
        Some(s) => match s.parse::<u64>() {
            Ok(0) => DEFAULT_TIMEOUT,
            Ok(n) => Duration::from_secs(n),
            Err(_) => {
                return Err(ApiError::bad_request(format!(
                    "invalid value for timeoutSeconds: {s:?}"
                )))
            }
        },
    };
    let store = &api.store;
    let current = store.resource_version();
    let changes = store.events.subscribe();
    let mut first = Vec::new();
    let mut done = false;
    let initial = match send_initial {
        Some(b) => b,
        None => rv_param.is_empty() || rv_param == "0",
    };
    let rv = if initial || rv_param.is_empty() || rv_param == "0" {
        if initial {
            for (k, v) in store.list(&rt.group, &rt.resource, None) {
                if filter.matches(k, v) {
                    first.push(line("ADDED", &as_version(v, &rt)));
                }
            }
            if send_initial == Some(true) {
                first.push(bookmark(&rt, current, true));
            }
        }
        current
    } else {
        let n: u64 = rv_param.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid resource version: {rv_param:?}"))
        })?;
        if n > current {
            let e = ApiError::new(
                504,
                "Timeout",
                format!("Too large resource version: {n}, current: {current}"),
            );
            let mut status = e.to_status();
            status["details"] = json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1});
            first.push(line("ERROR", &status));
            done = true;
            n
        } else {
            match replay(api, &rt, &filter, n, &mut first) {
                Ok(rv) => rv.max(n),
                Err(status) => {
                    first.push(line("ERROR", &status));
                    done = true;
                    n
                }
            }
        }
    };
    Ok(Plan {
        rt,
        filter,
        first,
        rv,
        done,
        bookmarks,
        timeout,
        changes,
    })
}

/// Appends the selected events after `rv` to `out`; returns the newest resourceVersion
/// seen, or the `410 Expired` Status when the history no longer reaches back to `rv`.
fn replay(
    api: &Api,
    rt: &ResourceType,
    filter: &Filter,
    rv: u64,
    out: &mut Vec<Bytes>,
) -> Result<u64, Value> {
    let events = api.store.events.since(rv).map_err(|too_old| {
        ApiError::new(
            410,
            "Expired",
            format!("too old resource version: {rv} ({})", too_old.oldest),
        )
        .to_status()
    })?;
    let mut last = rv;
    for e in events {
        last = e.rv;
        if e.key.group != rt.group || e.key.resource != rt.resource {
            continue;
        }
        if let Some(kind) = seen_as(e, filter) {
            out.push(line(kind, &as_version(&e.object, rt)));
        }
    }
    Ok(last)
}

/// How a watcher with `filter` sees an event: an object entering the selection is ADDED,
/// one leaving it is DELETED (as the real watch cache reports them).
fn seen_as(e: &Event, filter: &Filter) -> Option<&'static str> {
    let now = e.kind != EventType::Deleted && filter.matches(&e.key, &e.object);
    let before = e.prev.as_ref().is_some_and(|p| filter.matches(&e.key, p));
    match (e.kind, before, now) {
        (EventType::Deleted, true, _) => Some("DELETED"),
        (EventType::Deleted, false, _) => None,
        (_, false, true) => Some("ADDED"),
        (_, true, true) => Some("MODIFIED"),
        (_, true, false) => Some("DELETED"),
        (_, false, false) => None,
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

/// A BOOKMARK: only the kind and the resourceVersion reached (and, after the initial
/// events of `sendInitialEvents=true`, the `k8s.io/initial-events-end` annotation).
fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": rt.kind, "apiVersion": rt.group_version(), "metadata": metadata}),
    )
}

async fn run(api: Arc<Mutex<Api>>, mut plan: Plan, tx: mpsc::Sender<Bytes>) {
    for l in std::mem::take(&mut plan.first) {
        if tx.send(l).await.is_err() {
            return;
        }
    }
    if plan.done {
        return;
    }
    let deadline = tokio::time::sleep(plan.timeout);
    tokio::pin!(deadline);
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    loop {
        let mut out = Vec::new();
        let mut end = false;
        tokio::select! {
            _ = tx.closed() => return,
            _ = &mut deadline => return,
            _ = ticks.tick(), if plan.bookmarks => out.push(bookmark(&plan.rt, plan.rv, false)),
            changed = plan.changes.changed() => {
                if changed.is_err() {
                    return;
                }
                let Ok(guard) = api.lock() else { return };
                plan.changes.mark_unchanged();
                match replay(&guard, &plan.rt, &plan.filter, plan.rv, &mut out) {
                    Ok(rv) => plan.rv = rv,
                    Err(status) => {
                        out.push(line("ERROR", &status));
                        end = true;
                    }
                }
            }
        }
        for l in out {
            if tx.send(l).await.is_err() {
                return;
            }
        }
        if end {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Key;

    fn filter(labels: &str) -> Filter {
        let mut req = Request::default();
        req.query.insert("labelSelector".into(), labels.into());
        Filter::from_request(&req, Some("ns")).unwrap()
    }

    fn event(kind: EventType, prev: Option<&str>, now: &str) -> Event {
        let obj = |app: &str| json!({"metadata": {"labels": {"app": app}}});
        Event {
            rv: 2,
            kind,
            key: Key {
                group: String::new(),
                resource: "configmaps".into(),
                namespace: "ns".into(),
                name: "a".into(),
            },
            object: obj(now),
            prev: prev.map(obj),
        }
    }

    #[test]
    fn objects_entering_or_leaving_a_selection() {
        let f = filter("app=web");
        let m = EventType::Modified;
        assert_eq!(seen_as(&event(m, Some("web"), "web"), &f), Some("MODIFIED"));
        assert_eq!(seen_as(&event(m, Some("db"), "web"), &f), Some("ADDED"));
        assert_eq!(seen_as(&event(m, Some("web"), "db"), &f), Some("DELETED"));
        assert_eq!(seen_as(&event(m, Some("db"), "db"), &f), None);
        assert_eq!(
            seen_as(&event(EventType::Added, None, "web"), &f),
            Some("ADDED")
        );
        assert_eq!(
            seen_as(&event(EventType::Deleted, Some("web"), "web"), &f),
            Some("DELETED")
        );
        assert_eq!(
            seen_as(&event(EventType::Deleted, Some("db"), "db"), &f),
            None
        );
    }
}
