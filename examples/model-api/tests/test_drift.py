import math

import pytest

from model_api.drift import DriftMonitor, psi, reference_from_training


def rows(values):
    return [{"x": float(v)} for v in values]


def test_same_distribution_has_near_zero_psi():
    ref = reference_from_training(rows(range(1000)), ["x"], bins=10)
    m = DriftMonitor(ref, window=500, min_samples=100)
    m.observe(rows(range(0, 1000, 2)))
    assert m.samples() == 500
    assert m.values()["x"] < 0.01


def test_shifted_distribution_has_large_psi():
    ref = reference_from_training(rows(range(1000)), ["x"], bins=10)
    m = DriftMonitor(ref, window=200, min_samples=100)
    m.observe(rows(range(800, 1000)))  # only the top two deciles
    assert m.values()["x"] > 0.25


def test_window_slides_and_min_samples_hides_value():
    ref = reference_from_training(rows(range(1000)), ["x"], bins=10)
    m = DriftMonitor(ref, window=100, min_samples=50)
    m.observe(rows([5000] * 10))
    assert m.values() == {}, "below min_samples nothing is reported"
    m.observe(rows([5000] * 100))
    high = m.values()["x"]
    m.observe(rows(range(0, 1000, 10)))  # the window now holds only reference-like inputs
    assert m.samples() == 100
    assert m.values()["x"] < high / 10


def test_psi_formula():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    want = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(want)
    assert math.isfinite(psi([0.5, 0.5], [1.0, 0.0]))


def test_bad_reference_is_refused():
    with pytest.raises(ValueError, match="version"):
        DriftMonitor({"features": {}})
    with pytest.raises(ValueError, match="shares"):
        DriftMonitor({"version": 1, "features": {"x": {"edges": [1, 2], "expected": [1.0]}}})
