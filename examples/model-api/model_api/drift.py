"""Input drift: the population stability index (PSI) of each feature over a sliding window of
the inputs the API served, against the training reference the model's run logged.

The reference (`drift_reference.json`, written by `reference_from_training` at training time)
holds, per feature, the inner bin edges (quantiles of the training data) and the share of the
training rows in each bin. The window keeps per-bin counts updated on every input, so the index
is computed in O(features x bins) when Prometheus scrapes, never per request.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_right
from collections import deque
from typing import Iterable, Mapping, Sequence

#: Proportions are clipped to this before the logarithm, so an empty bin stays finite.
EPSILON = 1e-4
REFERENCE_VERSION = 1


def reference_from_training(
    rows: Sequence[Mapping[str, float]], features: Sequence[str], bins: int = 10
) -> dict:
    """The drift reference of a training set: quantile bin edges and shares per feature."""
    if not rows:
        raise ValueError("the training set is empty")
    if bins < 2:
        raise ValueError("at least 2 bins")
    out = {"version": REFERENCE_VERSION, "features": {}}
    for f in features:
        values = sorted(float(r[f]) for r in rows)
        edges = []
        for i in range(1, bins):
            e = values[min(len(values) - 1, (i * len(values)) // bins)]
            if not edges or e > edges[-1]:
                edges.append(e)
        counts = [0] * (len(edges) + 1)
        for v in values:
            counts[bisect_right(edges, v)] += 1
        out["features"][f] = {
            "edges": edges,
            "expected": [c / len(values) for c in counts],
        }
    return out


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of `actual` shares against `expected` shares."""
    total = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return total


class DriftMonitor:
    """Per-feature bin counts of the last `window` inputs; PSI per feature on demand."""

    def __init__(self, reference: dict, window: int = 1000, min_samples: int = 100):
        if reference.get("version") != REFERENCE_VERSION:
            raise ValueError(
                f"drift reference version {reference.get('version')!r}, expected {REFERENCE_VERSION}"
            )
        feats = reference.get("features")
        if not isinstance(feats, dict) or not feats:
            raise ValueError("drift reference has no features")
        self._edges: dict[str, list[float]] = {}
        self._expected: dict[str, list[float]] = {}
        for name, spec in sorted(feats.items()):
            edges = [float(e) for e in spec["edges"]]
            expected = [float(p) for p in spec["expected"]]
            if len(expected) != len(edges) + 1:
                raise ValueError(f"drift reference for {name!r}: {len(edges)} edges need {len(edges) + 1} shares")
            self._edges[name], self._expected[name] = edges, expected
        if window < 1 or min_samples < 1 or min_samples > window:
            raise ValueError("need 1 <= min_samples <= window")
        self.window, self.min_samples = window, min_samples
        self._rows: deque[dict[str, int]] = deque()
        self._counts = {f: [0] * len(e) for f, e in self._expected.items()}
        self._lock = threading.Lock()

    @property
    def features(self) -> list[str]:
        return list(self._edges)

    def observe(self, rows: Iterable[Mapping[str, float]]) -> None:
        """Adds served inputs to the window (features the reference lacks are ignored)."""
        with self._lock:
            for row in rows:
                bins = {}
                for f, edges in self._edges.items():
                    v = row.get(f)
                    if v is None or not math.isfinite(float(v)):
                        continue
                    b = bisect_right(edges, float(v))
                    bins[f] = b
                    self._counts[f][b] += 1
                self._rows.append(bins)
                if len(self._rows) > self.window:
                    for f, b in self._rows.popleft().items():
                        self._counts[f][b] -= 1

    def samples(self) -> int:
        with self._lock:
            return len(self._rows)

    def values(self) -> dict[str, float]:
        """PSI per feature, once the window holds `min_samples` inputs (else nothing)."""
        with self._lock:
            out = {}
            for f, counts in self._counts.items():
                n = sum(counts)
                if n < self.min_samples:
                    continue
                out[f] = psi(self._expected[f], [c / n for c in counts])
            return out
