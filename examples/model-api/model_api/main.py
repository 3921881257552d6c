"""The model API: serves an MLflow model and exposes the metrics contract mlstack's generated
alerts and dashboards query (docs/monitoring.md, "The model API's metrics").

Configuration (the model-serving module renders these):
  MODEL_URI            models:/NAME@ALIAS or models:/NAME/VERSION (required); an alias is
                       resolved once at start-up and the version it points at is pinned
  MLFLOW_TRACKING_URI  the MLflow server holding the registry and the artifacts
  MODEL_TRACK          stable / candidate (a label of model_info)
  DRIFT_REFERENCE      artifact path of the drift reference in the model's run
                       (default drift_reference.json); DRIFT_WINDOW (1000), DRIFT_MIN_SAMPLES (100)
  FAULT_RATE           share of /predict answered 500 on purpose (demos of a bad version; 0)
  DOCS_URL             where the OpenAPI UI is served (default /docs)

Run: uvicorn model_api.main:app --host 0.0.0.0 --port 8000
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel, Field

from .drift import DriftMonitor

log = logging.getLogger("model_api")

#: Latency buckets (seconds); 2 s is the default p95 threshold of HighResponseTime.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)
#: Routes whose requests are not API traffic (probes and scrapes): not counted.
UNCOUNTED = {"/metrics", "/health"}
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[0-9]+))$")


class ConfigError(Exception):
    """Bad configuration: the message says which variable and why."""


@dataclass
class LoadedModel:
    """What is served: the pyfunc model and where it came from."""

    predict: Callable[[Any], Any]
    name: str
    version: str
    run_id: str
    features: list[str]
    drift: Optional[DriftMonitor] = None
    source: str = ""
    extra: dict = field(default_factory=dict)


def _env_float(env: dict, key: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(key, "")
    if raw == "":
        return default
    try:
        v = float(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a number") from None
    if not (lo <= v <= hi):
        raise ConfigError(f"{key}={raw} must be in [{lo}, {hi}]")
    return v


def load_from_mlflow(env: dict) -> LoadedModel:
    """Resolves MODEL_URI in the registry, loads that version and its drift reference."""
    import mlflow
    from mlflow import MlflowClient

    uri = env.get("MODEL_URI", "")
    if not uri:
        raise ConfigError("MODEL_URI is not set (models:/NAME@ALIAS or models:/NAME/VERSION)")
    tracking = env.get("MLFLOW_TRACKING_URI", "")
    m = _MODELS_URI.match(uri)
    name, version, run_id = env.get("MODEL_NAME", ""), env.get("MODEL_VERSION", ""), env.get("MODEL_RUN_ID", "")
    load_uri = uri
    if m:
        client = MlflowClient(tracking_uri=tracking or None, registry_uri=tracking or None)
        name = m.group("name")
        try:
            mv = (
                client.get_model_version_by_alias(name, m.group("alias"))
                if m.group("alias")
                else client.get_model_version(name, m.group("version"))
            )
        except Exception as e:  # the client raises MlflowException or connection errors
            raise ConfigError(f"cannot resolve {uri} at {tracking or 'the default tracking URI'}: {e}") from None
        version, run_id = str(mv.version), mv.run_id or run_id
        load_uri = f"models:/{name}/{version}"
    if tracking:
        mlflow.set_tracking_uri(tracking)
    try:
        model = mlflow.pyfunc.load_model(load_uri)
    except Exception as e:
        raise ConfigError(f"cannot load {load_uri}: {e}") from None
    run_id = run_id or (model.metadata.run_id or "")
    features: list[str] = []
    schema = model.metadata.get_input_schema()
    if schema is not None and schema.has_input_names():
        features = list(schema.input_names())
    drift = None
    artifact = env.get("DRIFT_REFERENCE", "drift_reference.json")
    if run_id and artifact:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact)
            with open(path, encoding="utf-8") as fh:
                reference = json.load(fh)
            drift = DriftMonitor(
                reference,
                window=int(_env_float(env, "DRIFT_WINDOW", 1000, 1, 10**7)),
                min_samples=int(_env_float(env, "DRIFT_MIN_SAMPLES", 100, 1, 10**7)),
            )
        except ConfigError:
            raise
        except Exception as e:
            log.warning("no drift reference %s in run %s (%s): drift is not measured", artifact, run_id, e)
    if not features and drift is not None:
        features = drift.features
    return LoadedModel(
        predict=model.predict,
        name=name or "model",
        version=version or "unknown",
        run_id=run_id,
        features=features,
        drift=drift,
        source=load_uri,
    )


class PredictRequest(BaseModel):
    """Rows to score: one mapping of feature name to value per row."""

    instances: list[dict[str, float]] = Field(min_length=1, max_length=1000)


class PredictResponse(BaseModel):
    predictions: list[Any]
    model: str
    version: str


def outcome(p: Any) -> str:
    """The `outcome` label of one prediction: the class, integral floats without `.0`."""
    if hasattr(p, "item"):
        p = p.item()
    if isinstance(p, float) and p.is_integer():
        p = int(p)
    return str(p)


class _ModelCollector:
    """model_info and the drift gauges, computed when Prometheus scrapes."""

    def __init__(self, state: dict, track: str):
        self.state, self.track = state, track

    def collect(self):
        m: Optional[LoadedModel] = self.state.get("model")
        info = GaugeMetricFamily(
            "model_info", "The served model version (value 1)", labels=["name", "version", "run_id", "track"]
        )
        if m is not None:
            info.add_metric([m.name, m.version, m.run_id, self.track], 1.0)
        yield info
        psi = GaugeMetricFamily(
            "model_input_drift_psi",
            "Population stability index of each input feature over the recent window vs the training reference",
            labels=["feature"],
        )
        samples = GaugeMetricFamily(
            "model_input_drift_window_samples", "Inputs in the drift window"
        )
        if m is not None and m.drift is not None:
            for f, v in sorted(m.drift.values().items()):
                psi.add_metric([f], v)
            samples.add_metric([], float(m.drift.samples()))
        yield psi
        yield samples


def create_app(
    loader: Callable[[dict], LoadedModel] = load_from_mlflow, env: Optional[dict] = None
) -> FastAPI:
    """The app; `loader` runs at start-up (a failure stops the process with its message)."""
    env = dict(os.environ if env is None else env)
    fault_rate = _env_float(env, "FAULT_RATE", 0.0, 0.0, 1.0)
    state: dict = {}
    registry = CollectorRegistry()
    requests = Counter(
        "http_requests", "HTTP requests by handler, method and status code",
        ["handler", "method", "status"], registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds", "HTTP request duration by handler",
        ["handler", "method"], buckets=LATENCY_BUCKETS, registry=registry,
    )
    predictions = Counter(
        "predictions", "Predictions by outcome", ["outcome"], registry=registry
    )
    registry.register(_ModelCollector(state, env.get("MODEL_TRACK", "stable")))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        state["model"] = loader(env)
        m = state["model"]
        log.info("serving %s version %s (%s)", m.name, m.version, m.source)
        yield

    app = FastAPI(
        title="Model API",
        description="Scores transactions with the model from the MLflow registry.",
        docs_url=env.get("DOCS_URL", "/docs") or "/docs",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def instrument(request: Request, call_next):
        start = time.perf_counter()
        try:
            response = await call_next(request)
            status = response.status_code
        except Exception:  # an unhandled error is a 500 for the client and the counter
            log.exception("unhandled error on %s", request.url.path)
            response, status = JSONResponse({"detail": "internal error"}, status_code=500), 500
        route = request.scope.get("route")
        handler = getattr(route, "path", None) or "other"
        if handler not in UNCOUNTED:
            requests.labels(handler, request.method, str(status)).inc()
            latency.labels(handler, request.method).observe(time.perf_counter() - start)
        return response

    @app.get("/health")
    def health():
        m = state.get("model")
        if m is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        return {"status": "ok", "model": m.name, "version": m.version}

    @app.get("/metrics", include_in_schema=False)
    def metrics():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/predict", response_model=PredictResponse)
    def predict(body: PredictRequest):
        m: LoadedModel = state["model"]
        rows = body.instances
        for i, row in enumerate(rows):
            missing = [f for f in m.features if f not in row]
            bad = [f for f, v in row.items() if not math.isfinite(v)]
            if missing or bad:
                raise HTTPException(
                    422, f"instances[{i}]: missing features {missing}" if missing else f"instances[{i}]: non-finite {bad}"
                )
        if fault_rate and random.random() < fault_rate:
            raise HTTPException(500, "injected fault (FAULT_RATE)")
        import pandas as pd

        frame = pd.DataFrame(rows, columns=m.features or None)
        out = m.predict(frame)
        values = list(out.tolist() if hasattr(out, "tolist") else out)
        for p in values:
            predictions.labels(outcome(p)).inc()
        if m.drift is not None:
            m.drift.observe(rows)
        return PredictResponse(predictions=values, model=m.name, version=m.version)

    return app


def __getattr__(name: str):
    # `uvicorn model_api.main:app` builds the app from the environment on first access only,
    # so importing this module (tests, tools) does not need MODEL_URI.
    if name == "app":
        return create_app()
    raise AttributeError(name)
