"""Data sets, batching and preprocessing (``myelin.data``).

Ready-made data sets (digits, MNIST, text, synthetic) live in :mod:`myelin.datasets`.
"""

from . import transforms
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .transforms import Compose, Standardize, one_hot, scale, standardize

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "random_split",
    "DataLoader",
    "default_collate",
    "transforms",
    "Standardize",
    "standardize",
    "scale",
    "one_hot",
    "Compose",
]
