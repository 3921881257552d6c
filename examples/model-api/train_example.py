"""Trains a small fraud classifier on generated transactions, logs it to MLflow with its drift
reference, registers a version and points an alias at it. The model API's tests and mlstack's
end-to-end tests use it; the retraining DAG (examples/dags) does the same in production.

  python3 train_example.py --tracking-uri http://127.0.0.1:5000 --name fraud-detection --alias champion
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from model_api.drift import reference_from_training  # noqa: E402

FEATURES = ["amount", "hour", "merchant_risk"]


def transactions(n: int, seed: int, amount_scale: float = 1.0) -> list[dict]:
    """Generated transactions: fraud is large, at night, at risky merchants."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        fraud = rng.random() < 0.1
        rows.append({
            "amount": rng.lognormvariate(6.0 if fraud else 4.0, 0.6) * amount_scale,
            "hour": float(rng.choice(range(0, 6)) if fraud else rng.choice(range(7, 24))),
            "merchant_risk": min(1.0, max(0.0, rng.gauss(0.7 if fraud else 0.2, 0.15))),
            "label": int(fraud),
        })
    return rows


def train_and_register(tracking_uri: str, name: str, alias: str, seed: int = 7) -> str:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(tracking_uri)
    rows = transactions(2000, seed)
    x = pd.DataFrame(rows, columns=FEATURES)
    y = [r["label"] for r in rows]
    model = LogisticRegression(max_iter=500).fit(x, y)
    with mlflow.start_run() as run:
        mlflow.log_params({"model": "logistic_regression", "seed": seed})
        mlflow.log_metric("train_accuracy", float(model.score(x, y)))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "drift_reference.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(reference_from_training(rows, FEATURES), fh, sort_keys=True)
            mlflow.log_artifact(path)
        info = mlflow.sklearn.log_model(
            model, artifact_path="model", signature=infer_signature(x, model.predict(x))
        )
        mv = mlflow.register_model(info.model_uri, name)
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        if alias:
            client.set_registered_model_alias(name, alias, mv.version)
        assert run.info.run_id
    return str(mv.version)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracking-uri", required=True)
    p.add_argument("--name", default="fraud-detection")
    p.add_argument("--alias", default="champion")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    print(train_and_register(a.tracking_uri, a.name, a.alias, a.seed))


if __name__ == "__main__":
    main()
