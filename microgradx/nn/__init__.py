"""Layers and models: ``nn.Module``, ``nn.Linear``, ``nn.MLP`` and friends; ``nn.init`` and ``nn.utils``."""

from . import init, utils
from .layers import MLP, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, Dropout, Embedding, LayerNorm

__all__ = [
    "MLP",
    "BatchNorm1d",
    "BatchNorm2d",
    "Dropout",
    "Embedding",
    "LayerNorm",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "init",
    "utils",
]
