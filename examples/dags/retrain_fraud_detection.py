"""Retraining of the fraud-detection model: train, register, move the `challenger` alias.

The Airflow module syncs this folder by git-sync and sets, in every component's environment:
  AIRFLOW_VAR_RETRAIN_SCHEDULE  the schedule (cron or preset), read as the `retrain_schedule` Variable
  AIRFLOW_VAR_MLFLOW_EXPERIMENT the MLflow experiment, read as the `mlflow_experiment` Variable
  MLFLOW_TRACKING_URI           the MLflow tracking server
Each run trains on freshly generated transactions, logs params, metrics and the model to MLflow,
registers a new version of the model and, when it passes the quality gate, points `challenger`
at it; the rollout decides whether a challenger becomes `champion`. Heavy imports live inside
the tasks so that parsing this file stays fast.
"""

from __future__ import annotations

import os
import zlib
from datetime import datetime

from airflow.sdk import Param, Variable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

SCHEDULE = Variable.get("retrain_schedule", default="@weekly")
EXPERIMENT = Variable.get("mlflow_experiment", default="fraud-detection")


def _tracking_uri() -> str:
    """MLflow's server; without one MLflow would silently log to a local ./mlruns folder."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        raise AirflowFailException(
            f"MLFLOW_TRACKING_URI must be the http(s) URL of the MLflow server, got {uri!r}"
        )
    return uri


def _serving_requirements() -> list[str]:
    """What loading the model needs (MLflow saves scikit-learn models with skops), pinned."""
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "skops", "pandas", "numpy")]


@dag(
    dag_id="retrain_fraud_detection",
    description="Retrain the fraud classifier, register it in MLflow, move the challenger alias",
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["mlops", "fraud-detection", "mlflow"],
    params={
        "model_name": Param("fraud-detection", type="string", minLength=1),
        "alias": Param("challenger", type="string", pattern="^[A-Za-z_][A-Za-z0-9_-]*$"),
        "n_samples": Param(20000, type="integer", minimum=1000, maximum=1000000),
        "c": Param(1.0, type="number", exclusiveMinimum=0),
        "min_roc_auc": Param(0.8, type="number", minimum=0, maximum=1),
        "seed": Param(None, type=["null", "integer"], description="empty: derived from the run id"),
    },
)
def retrain_fraud_detection():
    @task
    def train_model() -> dict:
        """Generates transactions, fits the model and logs everything to one MLflow run."""
        import mlflow
        from mlflow.models import infer_signature

        from fraud_training import make_transactions, train

        ctx = get_current_context()
        p = ctx["params"]
        seed = p["seed"] if p["seed"] is not None else zlib.crc32(ctx["run_id"].encode())
        mlflow.set_tracking_uri(_tracking_uri())
        mlflow.set_experiment(EXPERIMENT)
        frame = make_transactions(p["n_samples"], seed)
        with mlflow.start_run(run_name=f"retrain-{ctx['run_id']}") as run:
            mlflow.set_tags({"airflow.dag_id": ctx["dag"].dag_id, "airflow.run_id": ctx["run_id"]})
            mlflow.log_params(
                {
                    "model": "StandardScaler+LogisticRegression(class_weight=balanced)",
                    "c": p["c"],
                    "n_samples": p["n_samples"],
                    "seed": seed,
                }
            )
            model, metrics, x_test = train(frame, c=p["c"], seed=seed)
            mlflow.log_metrics(metrics)
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(x_test, model.predict(x_test)),
                # Stated, not inferred: inference re-imports the model in a subprocess (slow).
                pip_requirements=_serving_requirements(),
            )
        return {"run_id": run.info.run_id, "model_uri": info.model_uri, "metrics": metrics}

    @task
    def register(trained: dict) -> str:
        """Registers the logged model as a new version (the registry creates the model once)."""
        import mlflow

        ctx = get_current_context()
        mlflow.set_tracking_uri(_tracking_uri())
        version = mlflow.register_model(
            trained["model_uri"],
            ctx["params"]["model_name"],
            tags={
                "airflow.run_id": ctx["run_id"],
                "mlflow.run_id": trained["run_id"],
                "roc_auc": f"{trained['metrics']['roc_auc']:.4f}",
            },
        )
        return str(version.version)

    @task
    def promote(trained: dict, version: str) -> str:
        """Points the alias at the new version if it passes the gate; tags the verdict either way."""
        from mlflow import MlflowClient

        p = get_current_context()["params"]
        client = MlflowClient(tracking_uri=_tracking_uri())
        name, roc_auc = p["model_name"], trained["metrics"]["roc_auc"]
        if roc_auc < p["min_roc_auc"]:
            client.set_model_version_tag(name, version, "validation_status", "failed")
            raise AirflowFailException(
                f"{name} version {version}: roc_auc {roc_auc:.4f} is below min_roc_auc "
                f"{p['min_roc_auc']}; the {p['alias']} alias was not moved"
            )
        client.set_model_version_tag(name, version, "validation_status", "passed")
        client.set_registered_model_alias(name, p["alias"], version)
        return version

    trained = train_model()
    promote(trained, register(trained))


retrain_fraud_detection()
