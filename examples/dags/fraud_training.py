"""Synthetic card transactions and the fraud classifier trained on them.

Kept free of scheduler imports so the retraining DAG file parses fast and this code can be
run and tested on its own. The data is generated, not downloaded: nothing here needs a network
besides the MLflow tracking server.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Input columns of the model, in order. The logged MLflow signature carries them too, so a
#: serving app can read the schema from the model rather than from this list.
FEATURES = [
    "amount",
    "hour",
    "merchant_risk",
    "distance_km",
    "tx_last_24h",
    "is_foreign",
]

LABEL = "is_fraud"


def make_transactions(n: int, seed: int) -> pd.DataFrame:
    """`n` transactions with a rare `is_fraud` label (about 3 %), reproducible from `seed`.

    Fraud is more likely for large amounts, night hours, risky merchants, far from home,
    bursts of transactions and foreign cards; the label is drawn from a logistic model of
    those, so a classifier can learn it but not perfectly.
    """
    if n < 100:
        raise ValueError(f"n must be at least 100 transactions, got {n}")
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(mean=3.5, sigma=1.0, size=n).round(2)
    hour = rng.integers(0, 24, size=n)
    merchant_risk = rng.beta(2.0, 8.0, size=n).round(4)
    distance_km = rng.exponential(scale=15.0, size=n).round(1)
    tx_last_24h = rng.poisson(lam=2.0, size=n)
    is_foreign = (rng.random(n) < 0.08).astype(int)
    night = ((hour <= 5) | (hour >= 23)).astype(float)
    logit = (
        -10.5
        + 1.8 * np.log1p(amount / 100.0)
        + 2.5 * night
        + 10.0 * merchant_risk
        + 0.04 * distance_km
        + 0.5 * tx_last_24h
        + 2.5 * is_foreign
    )
    is_fraud = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "amount": amount,
            "hour": hour,
            "merchant_risk": merchant_risk,
            "distance_km": distance_km,
            "tx_last_24h": tx_last_24h,
            "is_foreign": is_foreign,
            LABEL: is_fraud,
        }
    )


def train(frame: pd.DataFrame, c: float, seed: int):
    """Fits a scaled, class-balanced logistic regression; returns (model, metrics, test inputs)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import (
        average_precision_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = frame[FEATURES]
    y = frame[LABEL]
    if y.nunique() < 2:
        raise ValueError("the training data has a single class; generate more transactions")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=seed
    )
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=c, class_weight="balanced", max_iter=1000),
    )
    model.fit(x_train, y_train)
    score = model.predict_proba(x_test)[:, 1]
    predicted = (score >= 0.5).astype(int)
    metrics = {
        "roc_auc": float(roc_auc_score(y_test, score)),
        "average_precision": float(average_precision_score(y_test, score)),
        "precision": float(precision_score(y_test, predicted, zero_division=0)),
        "recall": float(recall_score(y_test, predicted, zero_division=0)),
        "f1": float(f1_score(y_test, predicted, zero_division=0)),
        "fraud_rate": float(y.mean()),
        "train_rows": float(len(x_train)),
        "test_rows": float(len(x_test)),
    }
    return model, metrics, x_test
