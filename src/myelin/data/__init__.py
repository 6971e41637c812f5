"""Data sets, batching and preprocessing (``myelin.data``).

Ready-made data sets (digits, MNIST, text, synthetic) live in :mod:`myelin.datasets`.
"""

from . import transforms
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .transforms import Compose, Standardize, one_hot, scale, standardize

__all__ = [
    "Compose",
    "DataLoader",
    "Dataset",
    "Standardize",
    "Subset",
    "TensorDataset",
    "default_collate",
    "one_hot",
    "random_split",
    "scale",
    "standardize",
    "transforms",
]
