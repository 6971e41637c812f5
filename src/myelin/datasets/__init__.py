"""Ready-made data sets (``myelin.datasets``), all returned as NumPy arrays.

- :func:`digits`: 1,797 UCI 8x8 digits, shipped inside the package (no network, no files).
- :func:`mnist`, :func:`fashion_mnist`: from a local npz or IDX files, a cache, or a verified download.
- :func:`text`: a character-level corpus as :class:`TextDataset` windows.
- :func:`spirals`, :func:`moons`, :func:`xor`, :func:`circles`, :func:`gaussians`, :func:`checkerboard`,
  :func:`function_boundary`, :func:`sine`: synthetic toy problems.

Wrap the arrays in :class:`myelin.data.TensorDataset` and :class:`myelin.data.DataLoader` to train.
"""

from .digits import digits
from .download import (
    ChecksumError,
    DataFileError,
    DatasetNotFoundError,
    DownloadError,
    cache_dir,
    data_dirs,
    download,
)
from .mnist import fashion_mnist, load_npz, mnist, read_idx
from .synthetic import checkerboard, circles, function_boundary, gaussians, moons, sine, spirals, xor
from .text import TextDataset, text

__all__ = [
    "ChecksumError",
    "DataFileError",
    "DatasetNotFoundError",
    "DownloadError",
    "TextDataset",
    "cache_dir",
    "checkerboard",
    "circles",
    "data_dirs",
    "digits",
    "download",
    "fashion_mnist",
    "function_boundary",
    "gaussians",
    "load_npz",
    "mnist",
    "moons",
    "read_idx",
    "sine",
    "spirals",
    "text",
    "xor",
]
