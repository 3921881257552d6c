//! Fault injection in the cloud emulator: Yandex-format error bodies with the gRPC code of
//! the injected HTTP status, and dropped connections; the status page is spared.

mod common;

use common::cloud::{quick, start};
use mlstack_sandbox::Faults;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_errors_have_yandex_bodies() {
    let (h, c) = start(quick()).await;
    for (http, code) in [(429, 8), (500, 13), (503, 14), (409, 10)] {
        h.set_faults(Faults {
            error_rate: 1.0,
            error_codes: vec![http],
            drop_rate: 0.0,
        });
        let (status, body) = c.get("/vpc/v1/networks?folderId=f").await;
        assert_eq!(status, http, "{body}");
        assert_eq!(body["code"].as_u64(), Some(code), "{body}");
        assert!(body["message"].as_str().unwrap().contains("injected"));
        assert_eq!(
            body["details"][0]["@type"],
            "type.googleapis.com/google.rpc.RequestInfo"
        );
    }
    assert_eq!(c.get("/sandbox/v1/status").await.0, 200);
    h.set_faults(Faults {
        error_rate: 0.0,
        error_codes: vec![],
        drop_rate: 1.0,
    });
    assert!(c
        .try_send("GET", "/vpc/v1/networks?folderId=f", "application/json", "")
        .await
        .is_err());
    h.set_faults(Faults::default());
    assert_eq!(c.get("/vpc/v1/networks?folderId=f").await.0, 200);
    // The status page counted each injected fault (and was itself spared and uncounted).
    let cloud = &h.status().apis["cloud"];
    let codes: Vec<(&str, u64)> = cloud.errors.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    assert_eq!(
        codes,
        [("409", 1), ("429", 1), ("500", 1), ("503", 1)],
        "{cloud:?}"
    );
    assert_eq!(cloud.dropped, 1, "{cloud:?}");
    h.shutdown().await;
}
