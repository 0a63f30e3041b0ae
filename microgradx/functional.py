"""The op functions, re-exported as ``F.*`` (``import microgradx.functional as F``).

Nothing is defined here: each name links to its op in :mod:`microgradx.ops`,
where the forward and the derivative are written side by side.
"""

from .ops.arithmetic import astype, clone, power
from .ops.elementwise import abs, clip, exp, leaky_relu, log, relu, sigmoid, sqrt, tanh
from .ops.linalg import linear, matmul
from .ops.nn import (
    binary_cross_entropy,
    cross_entropy,
    cross_entropy_error,
    log_softmax,
    mean_squared_error,
    mse_loss,
    softmax,
)
from .ops.norm import batch_norm, dropout, embedding, layer_norm
from .ops.reduce import max, mean, min, sum
from .ops.shape import broadcast_to, concat, reshape, stack, sum_to, transpose, where

__all__ = [
    "abs",
    "astype",
    "binary_cross_entropy",
    "broadcast_to",
    "clip",
    "clone",
    "concat",
    "cross_entropy",
    "cross_entropy_error",
    "exp",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "mean",
    "mean_squared_error",
    "min",
    "mse_loss",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
    "where",
    # ---- elementwise functions, activations and losses ----
    # ---- end of elementwise functions, activations and losses ----
    # ---- reductions and linear algebra ----
    # ---- end of reductions and linear algebra ----
    # ---- normalisation and dropout ----
    "batch_norm",
    "dropout",
    "embedding",
    "layer_norm",
    # ---- end of normalisation and dropout ----
    # ---- shape and indexing ----
    # ---- end of shape and indexing ----
]
