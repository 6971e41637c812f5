"""Small synthetic problems for examples and tests: spirals, moons, XOR, circles, Gaussian blobs,
a checkerboard, classes split by a function's graph, and a sine curve.

Each returns ``(x, y)`` NumPy arrays: ``x`` float32 ``(n, 2)`` and ``y`` int64 ``(n,)`` class labels,
except :func:`sine` (regression, float32 ``(n, 1)`` each). ``seed=None`` draws from
:func:`myelin.random.get_rng` (so :func:`myelin.manual_seed` fixes it); an int makes the result a
pure function of the arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["checkerboard", "circles", "function_boundary", "gaussians", "moons", "sine", "spirals", "xor"]


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


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (like scikit-learn's ``make_circles``) with Gaussian noise of std ``noise``.

    Class 0 is the outer circle of radius 1, class 1 the inner one of radius ``factor`` (in ``(0, 1)``);
    ``ceil(n / 2)`` points on the outer circle. Returns ``x`` float32 ``(n, 2)``, ``y`` int64 ``(n,)``.
    """
    _check("circles", n, noise)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"circles: expected factor in (0, 1), received {factor!r}")
    rng = _rng(seed)
    n0, n1 = _class_sizes(n, 2)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = np.stack([np.cos(t1), np.sin(t1)], axis=1) * factor
    x = np.concatenate([outer, inner]) + rng.standard_normal((n, 2)) * noise
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    return x.astype(np.float32), y


def gaussians(n: int = 200, classes: int = 2, noise: float = 0.3, seed: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class, centred on the unit circle at angles ``2 pi c / classes``.

    Each blob has standard deviation ``noise``. Returns ``x`` float32 ``(n, 2)``, ``y`` int64 ``(n,)``.
    """
    _check("gaussians", n, noise)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"gaussians: expected classes to be an int >= 2, received {classes!r}")
    rng = _rng(seed)
    sizes = _class_sizes(n, classes)
    y = np.repeat(np.arange(classes, dtype=np.int64), sizes)
    angle = 2 * np.pi * y / classes
    centres = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centres + rng.standard_normal((n, 2)) * noise
    return x.astype(np.float32), y


def checkerboard(n: int = 400, tiles: int = 4, noise: float = 0.0, seed: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Points drawn uniformly from ``[-1, 1]^2``, labelled by the colour of a ``tiles x tiles`` checkerboard.

    After labelling, each point moves by Gaussian noise of std ``noise`` (so labels blur near the edges).
    Returns ``x`` float32 ``(n, 2)``, ``y`` int64 ``(n,)``.
    """
    _check("checkerboard", n, noise)
    if isinstance(tiles, bool) or not isinstance(tiles, (int, np.integer)) or tiles < 1:
        raise ValueError(f"checkerboard: expected tiles to be an int >= 1, received {tiles!r}")
    rng = _rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    cell = np.minimum(np.floor((x + 1.0) / 2.0 * tiles), tiles - 1).astype(np.int64)
    y = (cell[:, 0] + cell[:, 1]) % 2
    x = x + rng.standard_normal((n, 2)) * noise
    return x.astype(np.float32), y.astype(np.int64)


def function_boundary(fn: Any, n: int = 400, noise: float = 0.0, low: float = -2.0, high: float = 2.0,
                      seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two classes split by the graph of ``x2 = fn(x1)``: class 1 above it, class 0 below.

    ``fn`` maps a float64 array of ``x1`` values to an array of the same shape (a NumPy ufunc
    expression such as ``lambda x: np.sin(3 * x)``). Points are drawn uniformly from
    ``[low, high]^2``, labelled, then moved by Gaussian noise of std ``noise``. Points where ``fn``
    is not finite are labelled 0. Returns ``x`` float32 ``(n, 2)``, ``y`` int64 ``(n,)``.
    """
    _check("function_boundary", n, noise)
    if not callable(fn):
        raise TypeError(f"function_boundary: expected fn to be a callable, received {type(fn).__name__}")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"function_boundary: expected finite low < high, received {low!r}, {high!r}")
    rng = _rng(seed)
    x = rng.uniform(low, high, size=(n, 2))
    with np.errstate(all="ignore"):
        curve = np.broadcast_to(np.asarray(fn(x[:, 0].copy()), dtype=np.float64), (n,))
        y = (x[:, 1] > curve) & np.isfinite(curve)
    x = x + rng.standard_normal((n, 2)) * noise
    return x.astype(np.float32), y.astype(np.int64)
