"""Data: ``DataLoader`` and the datasets of the examples (spiral, digits, MNIST)."""

from .datasets import load_digits, load_mnist, read_idx, spiral, train_test_split
from .loader import DataLoader

__all__ = ["DataLoader", "load_digits", "load_mnist", "read_idx", "spiral", "train_test_split"]
