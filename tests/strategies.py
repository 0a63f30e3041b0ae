"""Value strategies shared by the op tests: the public ones of microgradx.testing, by short name."""

from hypothesis import strategies as st

from microgradx import testing

floats = testing.reals
away_from = testing.away_from
nonzero = testing.nonzero()
positive = testing.positive()
seeds = st.integers(0, 2**32 - 1)


@st.composite
def matmul_shapes(draw):
    """Shape pairs for a @ b: vector/matrix/batched operands, batch axes broadcasting."""
    side = st.integers(1, 4)
    n, k, m = draw(side), draw(side), draw(side)
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "batched"]))
    if kind == "vv":
        return (k,), (k,)
    if kind == "vm":
        return (k,), draw(st.sampled_from([(k, m), (2, k, m)]))
    if kind == "mv":
        return draw(st.sampled_from([(n, k), (3, n, k)])), (k,)
    if kind == "mm":
        return (n, k), (k, m)
    ba, bb = draw(testing.broadcastable_shapes(min_dims=1, max_dims=2, max_side=3))
    return ba + (n, k), bb + (k, m)
