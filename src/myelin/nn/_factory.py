"""PyTorch's factory keywords on layers: ``nn.Linear(4, 2, device="cpu", dtype=torch.float64)``.

Every built-in layer whose ``__init__`` does not name ``device`` and ``dtype`` itself gets them from
:func:`accept_factory_kwargs` (applied by ``Module.__init_subclass__`` to classes defined inside
``myelin``; users' own classes are never wrapped). The device must be the CPU; a dtype casts the new
layer's floating-point parameters and buffers. Neither enters the layer's config.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..devices import check_device
from ..dtypes import as_dtype

__all__ = ["FACTORY_KEYS", "accept_factory_kwargs", "strip_factory_kwargs"]

FACTORY_KEYS = ("device", "dtype")


def _names_factory(init: Callable[..., None]) -> bool:
    params = inspect.signature(init).parameters
    return any(k in params for k in FACTORY_KEYS) or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def accept_factory_kwargs(init: Callable[..., None]) -> Callable[..., None]:
    """``init`` extended with keyword-only ``device=None, dtype=None`` (unchanged when it names them)."""
    if getattr(init, "_myelin_factory", False) or _names_factory(init):
        return init

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, device: Any = None, dtype: Any = None, **kwargs: Any) -> None:
        where = type(self).__name__
        if device is not None:
            check_device(device, where)
        cast = None if dtype is None else as_dtype(dtype, where)
        init(self, *args, **kwargs)
        if cast is not None:
            self.to(cast)

    __init__._myelin_factory = True  # type: ignore[attr-defined]
    return __init__


def strip_factory_kwargs(init: Callable[..., None], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` without ``device``/``dtype`` when ``init`` takes them through :func:`accept_factory_kwargs`."""
    if getattr(init, "_myelin_factory", False) and any(k in kwargs for k in FACTORY_KEYS):
        return {k: v for k, v in kwargs.items() if k not in FACTORY_KEYS}
    return kwargs
