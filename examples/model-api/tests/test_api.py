"""The API against a real MLflow registry (SQLite) and a model trained by train_example.py."""
import re

import pytest
from fastapi.testclient import TestClient

from model_api.main import ConfigError, create_app
from train_example import transactions

FRAUD = {"amount": 3000.0, "hour": 2.0, "merchant_risk": 0.9}
LEGIT = {"amount": 40.0, "hour": 14.0, "merchant_risk": 0.1}


def client(registry, **extra):
    env = {
        "MODEL_URI": "models:/fraud-detection@champion",
        "MLFLOW_TRACKING_URI": registry["uri"],
        "DRIFT_MIN_SAMPLES": "50",
        "DRIFT_WINDOW": "200",
        **extra,
    }
    return TestClient(create_app(env=env))


def metric(text, metric_name, **labels):
    """The value of one sample of the exposition, or None."""
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        if not m or m.group(1) != metric_name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def test_health_docs_and_model_info(registry):
    with client(registry) as c:
        h = c.get("/health")
        assert h.status_code == 200
        assert h.json() == {"status": "ok", "model": "fraud-detection", "version": registry["version"]}
        assert c.get("/docs").status_code == 200
        assert "/predict" in c.get("/openapi.json").json()["paths"]
        text = c.get("/metrics").text
        assert metric(text, "model_info", name="fraud-detection", version=registry["version"], track="stable") == 1.0


def test_predict_counts_requests_latency_and_outcomes(registry):
    with client(registry) as c:
        r = c.post("/predict", json={"instances": [FRAUD, LEGIT]})
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == [1, 0]
        assert c.post("/predict", json={"instances": [{"amount": 1.0}]}).status_code == 422
        assert c.post("/predict", json={"instances": []}).status_code == 422
        text = c.get("/metrics").text
        assert metric(text, "http_requests_total", handler="/predict", method="POST", status="200") == 1
        assert metric(text, "http_requests_total", handler="/predict", method="POST", status="422") == 2
        assert metric(text, "http_request_duration_seconds_count", handler="/predict", method="POST") == 3
        assert metric(text, "http_request_duration_seconds_bucket", handler="/predict", le="2.0") == 3
        assert metric(text, "predictions_total", outcome="1") == 1
        assert metric(text, "predictions_total", outcome="0") == 1
        # Probes and scrapes are not API traffic.
        assert metric(text, "http_requests_total", handler="/health") is None
        assert metric(text, "http_requests_total", handler="/metrics") is None


def test_drift_rises_when_inputs_shift(registry):
    with client(registry) as c:
        assert metric(c.get("/metrics").text, "model_input_drift_psi") is None, "no value before min samples"
        for chunk in range(4):
            rows = [{k: r[k] for k in FRAUD} for r in transactions(50, 100 + chunk)]
            assert c.post("/predict", json={"instances": rows}).status_code == 200
        text = c.get("/metrics").text
        assert metric(text, "model_input_drift_window_samples") == 200
        calm = metric(text, "model_input_drift_psi", feature="amount")
        assert calm is not None and calm < 0.1, text
        for chunk in range(4):
            rows = [{k: r[k] for k in FRAUD} for r in transactions(50, 200 + chunk, amount_scale=20.0)]
            assert c.post("/predict", json={"instances": rows}).status_code == 200
        text = c.get("/metrics").text
        assert metric(text, "model_input_drift_psi", feature="amount") > 0.25
        assert metric(text, "model_input_drift_psi", feature="hour") < 0.1


def test_fault_rate_answers_500_and_counts_it(registry):
    with client(registry, FAULT_RATE="1") as c:
        assert c.post("/predict", json={"instances": [LEGIT]}).status_code == 500
        assert metric(c.get("/metrics").text, "http_requests_total", status="500") == 1


def test_missing_alias_fails_start_with_the_model_and_server(registry):
    app = create_app(env={"MODEL_URI": "models:/fraud-detection@nope", "MLFLOW_TRACKING_URI": registry["uri"]})
    with pytest.raises(ConfigError, match="fraud-detection@nope"):
        with TestClient(app):
            pass


def test_missing_model_uri_is_a_clear_error():
    with pytest.raises(ConfigError, match="MODEL_URI is not set"):
        with TestClient(create_app(env={})):
            pass
    with pytest.raises(ConfigError, match="FAULT_RATE"):
        create_app(env={"FAULT_RATE": "2"})
