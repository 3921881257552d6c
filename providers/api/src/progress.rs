//! Progress from inside one resource's apply: a provider whose apply takes many steps (a canary
//! rollout) checkpoints its attributes after each so that state records the phase reached, and
//! reports lines for the user. The engine installs a [`Sink`] around every apply as a task-local,
//! so the [`crate::ApplyRequest`] every provider and test builds stays as it is; outside an
//! engine apply (unit tests, tools) checkpoints and reports go nowhere.

use crate::{ProviderError, ProviderResult, Value};
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

/// What a provider sends to the engine during an apply.
#[derive(Debug)]
pub enum Message {
    /// Record these attributes for `address` now; `saved` answers once state is stored.
    Checkpoint {
        address: String,
        attributes: Value,
        saved: oneshot::Sender<Result<(), String>>,
    },
    /// A progress line (`message`, never a secret) with machine-readable `detail`.
    Report {
        address: String,
        message: String,
        detail: serde_json::Value,
    },
}

/// The engine's end of one resource's progress channel.
#[derive(Clone, Debug)]
pub struct Sink {
    address: String,
    tx: mpsc::UnboundedSender<Message>,
}

impl Sink {
    /// A sink for `address` sending to `tx`.
    pub fn new(address: &str, tx: mpsc::UnboundedSender<Message>) -> Sink {
        Sink {
            address: address.to_string(),
            tx,
        }
    }
}

tokio::task_local! {
    static SINK: Sink;
}

/// Runs `f` (one resource's apply) with `sink` as its progress sink.
pub async fn scoped<F: Future>(sink: Sink, f: F) -> F::Output {
    SINK.scope(sink, f).await
}

/// Saves `attributes` as this resource's state before the apply goes on. Ok (nothing saved)
/// outside an engine apply; an error when the engine could not store state, in which case the
/// provider must stop before changing anything else.
pub async fn checkpoint(attributes: &Value) -> ProviderResult<()> {
    let Ok(sink) = SINK.try_with(Sink::clone) else {
        return Ok(());
    };
    let (saved, answer) = oneshot::channel();
    let msg = Message::Checkpoint {
        address: sink.address.clone(),
        attributes: attributes.clone(),
        saved,
    };
    if sink.tx.send(msg).is_err() {
        return Err(ProviderError::new(
            "the engine stopped listening for checkpoints",
        ));
    }
    match answer.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ProviderError::new(format!(
            "saving the checkpoint to state failed: {e}"
        ))),
        Err(_) => Err(ProviderError::new("the engine dropped the checkpoint")),
    }
}

/// Reports one progress line (plain output) with its `detail` (`--json` events).
pub fn report(message: impl Into<String>, detail: serde_json::Value) {
    let _ = SINK.try_with(|sink| {
        let _ = sink.tx.send(Message::Report {
            address: sink.address.clone(),
            message: message.into(),
            detail,
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checkpoints_reach_the_sink_and_wait_for_the_save() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let engine = async move {
            let mut seen = Vec::new();
            while let Some(m) = rx.recv().await {
                match m {
                    Message::Checkpoint {
                        address,
                        attributes,
                        saved,
                    } => {
                        seen.push(format!("{address}={}", attributes.to_json_unmarked()));
                        let _ = saved.send(Err("disk full".into()));
                    }
                    Message::Report { message, .. } => seen.push(message),
                }
            }
            seen
        };
        let provider = scoped(Sink::new("r", tx), async {
            report("step 1", serde_json::json!({"weight": 10}));
            checkpoint(&Value::from("a")).await
        });
        let (seen, result) = tokio::join!(engine, provider);
        assert!(result.unwrap_err().message.contains("disk full"));
        assert_eq!(seen, vec!["step 1".to_string(), "r=\"a\"".to_string()]);
    }

    #[tokio::test]
    async fn without_an_engine_nothing_is_sent() {
        report("nobody listens", serde_json::Value::Null);
        assert!(checkpoint(&Value::from("a")).await.is_ok());
    }
}
