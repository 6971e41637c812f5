"""``evaluate`` and ``predict``, and the batching helpers ``fit`` shares with them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._plural import counted
from .metrics import Metric, is_regression_loss, loss_name, resolve_loss, resolve_metrics
from .threads import BlasThreads

__all__ = ["evaluate", "predict"]

DEFAULT_METRICS = ("accuracy",)


def is_array_like(x: Any) -> bool:
    return isinstance(x, np.ndarray) or isinstance(getattr(x, "data", None), np.ndarray) or (
        hasattr(x, "detach") and hasattr(x, "numpy"))


def as_dataset(data: Any, what: str) -> Any:
    """A map-style data set from ``(x, y)`` arrays/tensors or a Dataset."""
    from ..data import TensorDataset

    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"{what}: expected (x, y), received a sequence of {counted(len(data), 'item')}")
        return TensorDataset(*data)
    if hasattr(data, "__len__") and hasattr(data, "__getitem__") and not is_array_like(data):
        return data
    raise TypeError(f"{what}: expected (x, y) arrays, a Dataset or a DataLoader, received {type(data).__name__}")


def make_loader(data: Any, batch_size: int, shuffle: bool, seed: int | None, what: str) -> Any:
    from ..data import DataLoader

    if isinstance(data, DataLoader) or (hasattr(data, "__iter__") and hasattr(data, "batch_size")):
        return data
    return DataLoader(as_dataset(data, what), batch_size=batch_size, shuffle=shuffle, seed=seed)


def split_last(data: Any, fraction: float) -> tuple[Any, Any]:
    """Keras's ``validation_split``: the LAST ``fraction`` of the samples (before shuffling) validates."""
    from ..data import DataLoader, Subset

    template = data if isinstance(data, DataLoader) else None
    ds = template.dataset if template is not None else as_dataset(data, "fit")
    n = len(ds)
    n_train = int(n * (1.0 - fraction))
    if n_train < 1 or n_train >= n:
        raise ValueError(f"fit: validation_split={fraction} leaves {n_train} of {counted(n, 'sample')} for training")
    train, val = Subset(ds, np.arange(n_train)), Subset(ds, np.arange(n_train, n))
    if template is None:
        return train, val
    kw = {"batch_size": template.batch_size, "drop_last": template.drop_last, "collate_fn": template.collate_fn}
    return (DataLoader(train, shuffle=template.shuffle, seed=template.seed, **kw),
            DataLoader(val, shuffle=False, **kw))


def unpack_batch(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(f"fit: expected each batch to be (inputs, targets), received {type(batch).__name__}"
                     f"{' of ' + str(len(batch)) if isinstance(batch, (tuple, list)) else ''}")


def as_numpy(x: Any) -> np.ndarray:
    data = getattr(x, "data", x)
    return data if isinstance(data, np.ndarray) else np.asarray(data)


def loss_value(loss: Any) -> float:
    arr = as_numpy(loss)
    if arr.size != 1:
        raise ValueError(f"fit: expected the loss to return a scalar, received shape {arr.shape}")
    return float(arr.reshape(()))


@contextmanager
def train_mode(model: Any, training: bool) -> Iterator[None]:
    """Set train/eval mode inside; restore the previous mode after."""
    before = getattr(model, "training", True)
    model.train(training)
    try:
        yield
    finally:
        model.train(before)


def run_eval(model: Any, loader: Iterable[Any], loss_fn: Callable[..., Any] | None,
              metrics: list[Metric]) -> dict[str, float]:
    from ..autograd import no_grad

    total, count = 0.0, 0
    for m in metrics:
        m.reset()
    with train_mode(model, False), no_grad():
        for batch in loader:
            x, y = unpack_batch(batch)
            out = model(x)
            n = len(as_numpy(y))
            scores = as_numpy(out)
            if scores.dtype.kind == "f" and not np.isfinite(scores).all():
                raise ValueError(
                    f"evaluate: the model's outputs hold NaN or infinite values for samples {count}-{count + n - 1}; "
                    "check those inputs for NaN/inf (and the weights): no result is reported for them"
                )
            if loss_fn is not None:
                total += loss_value(loss_fn(out, y)) * n
            count += n
            for m in metrics:
                m.update(as_numpy(out), as_numpy(y))
    logs = {"loss": total / count if count else float("nan")} if loss_fn is not None else {}
    logs.update({m.name: m.result() for m in metrics})
    return logs


def metrics_for(metrics: Any, loss: Any) -> list[Metric]:
    if metrics is DEFAULT_METRICS and loss is not None and is_regression_loss(loss):
        metrics = ()
    return resolve_metrics(metrics, logits="logits" in loss_name(loss) if loss is not None else False)


def evaluate(model: Any, data: Any, loss: Any = None, metrics: Any = DEFAULT_METRICS,
             batch_size: int = 256, threads: Any = "auto") -> dict[str, float]:
    """``{"loss": ..., "accuracy": ...}`` of ``model`` on ``data`` ((x, y), a Dataset or a DataLoader).

    Runs in batches under ``no_grad`` and ``eval()``, restoring the previous mode after. ``loss``
    is optional (a name or callable); the default ``accuracy`` is left out for regression losses.
    ``threads``: NumPy's BLAS threads meanwhile, as in ``fit``.
    """
    blas = BlasThreads(model, threads, what="evaluate")
    loss_fn = resolve_loss(loss) if loss is not None else None
    loader = make_loader(data, batch_size, False, None, "evaluate")
    if hasattr(loader, "__len__") and len(loader) == 0:
        raise ValueError("evaluate: received no samples")
    with blas:
        return run_eval(model, loader, loss_fn, metrics_for(metrics, loss))


def predict(model: Any, x: Any, batch_size: int = 256, threads: Any = "auto") -> np.ndarray:
    """``model``'s outputs for ``x`` (array/tensor, Dataset or DataLoader) as one NumPy array.

    Runs in batches under ``no_grad`` and ``eval()``, restoring the previous mode after. For a
    Dataset or DataLoader the first field of each batch is the input. ``threads``: NumPy's BLAS
    threads meanwhile, as in ``fit``.
    """
    from ..autograd import no_grad
    from ..data import DataLoader
    from ..data.dataloader import to_batch_tensor
    from ..data.dataset import to_numpy

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"predict: expected batch_size to be an int >= 1, received {batch_size!r}")
    blas = BlasThreads(model, threads, what="predict")
    if is_array_like(x) or isinstance(x, (list, tuple)):
        arr = to_numpy(x)
        batches: Iterable[Any] = (to_batch_tensor(arr[i:i + batch_size]) for i in range(0, len(arr), batch_size))
    else:
        loader = x if isinstance(x, DataLoader) else DataLoader(as_dataset(x, "predict"), batch_size=batch_size)
        batches = (b[0] if isinstance(b, (tuple, list)) else b for b in loader)
    outputs = []
    with train_mode(model, False), no_grad(), blas:
        for batch in batches:
            outputs.append(np.array(as_numpy(model(batch)), copy=True))
    if not outputs:
        raise ValueError("predict: received no samples")
    return np.concatenate(outputs)
