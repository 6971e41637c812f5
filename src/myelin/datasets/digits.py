"""The UCI optical handwritten digits (1,797 images of 8x8 pixels), shipped inside the package.

Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine
Learning Repository, 1998, CC BY 4.0 (see ``DATA_LICENSES.md``).
"""

from __future__ import annotations

import functools
import gzip
import io
from importlib import resources

import numpy as np

from .download import DataFileError

__all__ = ["digits", "load_digits_raw"]

Split = tuple[np.ndarray, np.ndarray]
_RESOURCE = "digits.csv.gz"


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    source = resources.files(__package__).joinpath(_RESOURCE)
    try:
        text = gzip.decompress(source.read_bytes()).decode("ascii")
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise DataFileError(f"myelin.datasets/{_RESOURCE}: unreadable bundled data: {exc}") from exc
    if table.shape != (1797, 65):
        raise DataFileError(f"myelin.datasets/{_RESOURCE}: expected shape (1797, 65), received {table.shape}")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise DataFileError(f"myelin.datasets/{_RESOURCE}: pixel or label values out of range")
    pixels.flags.writeable = False
    labels = labels.copy()
    labels.flags.writeable = False
    return pixels, labels


def load_digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 samples unsplit: pixels int64 ``(1797, 64)`` in ``0..16``, labels int64 ``(1797,)``."""
    pixels, labels = _raw()
    return pixels.copy(), labels.copy()


def _stratified(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices (each in original order) with ``round(test_fraction * n_c)`` of each class in test."""
    rng = np.random.default_rng(seed)
    test: list[np.ndarray] = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = round(test_fraction * len(members))
        test.append(rng.permutation(members)[:k])
    test_idx = np.sort(np.concatenate(test))
    train_mask = np.ones(len(labels), dtype=bool)
    train_mask[test_idx] = False
    return np.flatnonzero(train_mask), test_idx


def digits(flatten: bool = False, test_fraction: float = 0.2, seed: int = 0) -> tuple[Split, Split]:
    """The 8x8 digits as ``((x_train, y_train), (x_test, y_test))``, split stratified by class.

    Images float32 in ``[0, 1]`` (pixel counts ``0..16`` divided by 16), shape ``(N, 1, 8, 8)``,
    or ``(N, 64)`` with ``flatten=True``; labels int64 ``(N,)``. The split is a pure function of
    ``(test_fraction, seed)``; with the defaults it gives 1,438 training and 359 test samples.
    ``test_fraction=0`` puts everything in the training set.
    """
    if isinstance(test_fraction, bool) or not 0.0 <= float(test_fraction) < 1.0:
        raise ValueError(f"digits: expected 0 <= test_fraction < 1, received {test_fraction!r}")
    pixels, labels = _raw()
    train_idx, test_idx = _stratified(labels, float(test_fraction), seed)
    images = pixels.astype(np.float32) / np.float32(16.0)
    images = images if flatten else images.reshape(-1, 1, 8, 8)
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])
