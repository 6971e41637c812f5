"""Data sets, batching and preprocessing (``myelin.data``; PyTorch's names are in ``myelin.utils.data``).

Ready-made data sets (digits, MNIST, text, synthetic) live in :mod:`myelin.datasets`.
"""

from . import transforms
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .transforms import Compose, Standardize, one_hot, scale, standardize
from .workers import get_worker_info

__all__ = [
    "BatchSampler",
    "Compose",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Standardize",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "one_hot",
    "random_split",
    "scale",
    "standardize",
    "transforms",
]
