"""Small synthetic problems for examples and tests: spirals, moons, XOR, a sine curve.

Each returns ``(x, y)`` NumPy arrays: ``x`` float32 ``(n, 2)`` and ``y`` int64 ``(n,)`` class labels,
except :func:`sine` (regression, float32 ``(n, 1)`` each). ``seed=None`` draws from
:func:`myelin.random.get_rng` (so :func:`myelin.manual_seed` fixes it); an int makes the result a
pure function of the arguments.
"""

from __future__ import annotations

import numpy as np

__all__ = ["moons", "sine", "spirals", "xor"]


def _rng(seed: int | None) -> np.random.Generator:
    if seed is None:
        from ..random import get_rng

        return get_rng()
    return np.random.default_rng(seed)


def _check(where: str, n: int, noise: float, low: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
        raise ValueError(f"{where}: expected n to be an int >= {low}, received {n!r}")
    if not noise >= 0:
        raise ValueError(f"{where}: expected noise >= 0, received {noise!r}")


def _class_sizes(n: int, classes: int) -> list[int]:
    return [n // classes + (1 if c < n % classes else 0) for c in range(classes)]


def spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (the CS231n toy set), one per class.

    ``n`` points in total, shared as evenly as possible; ``noise`` is the std of the angle jitter.
    Returns ``x`` float32 ``(n, 2)`` within ``[-1, 1]``, ``y`` int64 ``(n,)`` in ``[0, classes)``.
    """
    _check("spirals", n, noise)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"spirals: expected classes to be an int >= 2, received {classes!r}")
    rng = _rng(seed)
    xs, ys = [], []
    for c, m in enumerate(_class_sizes(n, classes)):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, m) + rng.standard_normal(m) * noise
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(m, c, dtype=np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (like scikit-learn's ``make_moons``) with Gaussian noise of std ``noise``.

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower ``(1 - cos t, 0.5 - sin t)``,
    ``t`` in ``[0, pi]``; ``ceil(n / 2)`` points in class 0. Returns ``x`` float32 ``(n, 2)``, ``y`` int64 ``(n,)``.
    """
    _check("moons", n, noise)
    rng = _rng(seed)
    n0, n1 = _class_sizes(n, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = np.concatenate([upper, lower]) + rng.standard_normal((n, 2)) * noise
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    return x.astype(np.float32), y


def xor(n: int = 4, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem.

    ``n == 4`` gives the four canonical points ``(0,0), (0,1), (1,0), (1,1)`` with labels ``0, 1, 1, 0``
    (``noise`` and ``seed`` are ignored). Any other ``n`` gives ``n`` points cycling through those four
    corners (balanced to within one point per corner), each jittered by Gaussian noise of std ``noise``,
    labelled by the XOR of their corner. Returns ``x`` float32 ``(n, 2)``, ``y`` int64 ``(n,)``.
    """
    _check("xor", n, noise)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0], dtype=np.int64)
    if n == 4:
        return corners.astype(np.float32), labels
    which = np.arange(n) % 4
    x = corners[which] + _rng(seed).standard_normal((n, 2)) * noise
    return x.astype(np.float32), labels[which]


def sine(n: int = 256, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Regression on ``y = sin(x) + noise * N(0, 1)`` with ``x`` drawn uniformly from ``[-pi, pi]``.

    Returns ``x`` and ``y``, both float32 of shape ``(n, 1)``.
    """
    _check("sine", n, noise)
    rng = _rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(x) + rng.standard_normal((n, 1)) * noise
    return x.astype(np.float32), y.astype(np.float32)
