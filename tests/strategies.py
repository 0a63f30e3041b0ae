"""Value strategies shared by the op tests (domains that keep the oracle accurate)."""

from hypothesis import strategies as st


def floats(lo: float = -10.0, hi: float = 10.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from(points, lo=-10.0, hi=10.0, gap=1e-3):
    """Floats in [lo, hi] at least ``gap`` from every kink in ``points``."""
    return floats(lo, hi).filter(lambda v: all(abs(v - p) > gap for p in points))


nonzero = st.one_of(floats(0.5, 4.0), floats(-4.0, -0.5))
positive = floats(0.1, 10.0)
seeds = st.integers(0, 2**32 - 1)
