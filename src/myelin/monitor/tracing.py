"""``myelin.trace(model, x)``: every layer's input, output and (after a loss) gradients, by layer path.

One forward pass runs with hooks on every module; each call is kept as a :class:`LayerRecord` whose
``output`` tensors keep their gradient after ``backward()``. Recurrent layers run on the readable
reference cells (:mod:`myelin.nn.reference`) so their gates and cell states are recorded per step::

    tr = myelin.trace(model, x, target=y)        # forward, cross-entropy (int y) or MSE (float y), backward
    tr["features.0"].output                       # (N, C, H, W) feature maps
    tr["features.0"].grad_output                  # dL/d(output), same shape
    tr["classifier.2"].grads["weight"]            # dL/dW of that layer
    tr["lstm"].gates("f")                         # (L, N, H) forget gate over time
    tr["features.0"].plot_feature_maps()          # a matplotlib Figure
    print(tr)                                     # a table of shapes, means and gradient norms
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .._plural import counted
from ..core.tensor import Tensor, as_tensor

__all__ = ["LayerRecord", "Trace", "trace"]

_RECURRENT = ("RNNBase", "RNNCellBase")


def _array(value: Any) -> np.ndarray | None:
    """The NumPy array of a tensor or of a gradient (an array or a Tensor), or None."""
    if value is None:
        return None
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _first_tensor(value: Any) -> Tensor | None:
    """The first Tensor in a (nested) tuple or list, or the value itself."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


def _is_recurrent(module: Any) -> bool:
    return any(c.__name__ in _RECURRENT for c in type(module).__mro__)


class LayerRecord:
    """One module call: ``input`` and ``output`` tensors, parameter gradients, recurrent steps.

    Attributes:
        path: the module's dotted path in the model (``''`` for the model itself; a module
            called several times gets ``path#1``, ``path#2``... for the later calls).
        module: the module.
        inputs: the positional arguments of the call; ``input`` is the first tensor of them.
        raw_output: what ``forward`` returned; ``output`` is its first tensor.
        steps: for recurrent layers, one dict per time step of the reference cell (``'i', 'f',
            'g', 'o', 'c', 'h'`` for an LSTM, ``'r', 'z', 'n', 'h'`` for a GRU, ``'a', 'h'`` for an RNN).
    """

    def __init__(self, path: str, module: Any, inputs: tuple) -> None:
        self.path = path
        self.module = module
        self.inputs = inputs
        self.raw_output: Any = None
        self.steps: list[dict[str, Any]] = []

    @property
    def input(self) -> Tensor | None:
        return _first_tensor(self.inputs)

    @property
    def output(self) -> Tensor | None:
        return _first_tensor(self.raw_output)

    @property
    def grad_output(self) -> np.ndarray | None:
        """``dL/d(output)`` after ``backward()`` (None before, or when the output needs no gradient)."""
        out = self.output
        return None if out is None else _array(out.grad)

    @property
    def grad_input(self) -> np.ndarray | None:
        """``dL/d(input)`` after ``backward()``."""
        x = self.input
        return None if x is None else _array(x.grad)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The module's own parameters (not its children's) by name, as arrays."""
        return {n: p.data for n, p in self.module.named_parameters(recurse=False)}

    @property
    def grads(self) -> dict[str, np.ndarray | None]:
        """The gradient of each of the module's own parameters (None before ``backward()``)."""
        return {n: _array(p.grad) for n, p in self.module.named_parameters(recurse=False)}

    def gates(self, name: str) -> np.ndarray:
        """One recorded quantity over time, ``(L, N, H)``: e.g. ``'f'`` (LSTM forget gate) or ``'c'``."""
        if not self.steps:
            raise ValueError(f"trace: layer '{self.path}' ({type(self.module).__name__}) recorded no steps; "
                             f"only recurrent layers run on the reference cells record gates")
        if name not in self.steps[0]:
            keys = sorted(k for k in self.steps[0] if k != "cell")
            raise KeyError(f"trace: layer '{self.path}' recorded {keys}, not {name!r}")
        return np.stack([s[name].data for s in self.steps])

    def plot_feature_maps(self, sample: int = 0, max_maps: int = 32, grad: bool = False, path: Any = None) -> Any:
        """The output channels of a convolution (or pooling) for one sample as images (a Figure)."""
        from .trace_plots import feature_maps
        data = self.grad_output if grad else _array(self.output)
        if data is None:
            raise ValueError(f"trace: layer '{self.path}' has no {'gradient' if grad else 'output'} to draw")
        what = "gradient" if grad else "output"
        return feature_maps(data, sample, max_maps, f"layer '{self.path or 'model'}' {what}", path)

    def plot_gates(self, sample: int = 0, path: Any = None) -> Any:
        """Each recorded gate and state of a recurrent layer over time for one sample (a Figure)."""
        from .trace_plots import gates_over_time
        names = [k for k in self.steps[0] if k != "cell"] if self.steps else []
        return gates_over_time({k: self.gates(k)[:, sample] for k in names},
                               f"{type(self.module).__name__} '{self.path or 'model'}' (sample {sample})", path)

    def _row(self) -> list[str]:
        def shape(t: Any) -> str:
            return "-" if t is None else str(tuple(np.shape(t)))

        def stat(a: np.ndarray | None) -> str:
            return "-" if a is None or a.size == 0 else f"{float(np.linalg.norm(a)):.3g}"

        out = _array(self.output)
        mean = "-" if out is None or out.size == 0 else f"{float(out.mean()):.3g}"
        # parameter gradients only once backward has run through this call (not stale ones from training)
        gparams = [g for g in self.grads.values() if g is not None] if self.grad_output is not None else []
        gp = f"{float(np.sqrt(sum(float((g * g).sum()) for g in gparams))):.3g}" if gparams else "-"
        return [self.path or "(model)", type(self.module).__name__, shape(self.input), shape(out), mean,
                stat(self.grad_output), gp]

    def __repr__(self) -> str:
        row = self._row()
        steps = f", {counted(len(self.steps), 'step')}" if self.steps else ""
        return (f"LayerRecord('{self.path}' {row[1]}: input {row[2]}, output {row[3]}, output mean {row[4]}, "
                f"|dL/dout| {row[5]}, |dL/dparams| {row[6]}{steps})")


_HEADER = ["layer", "type", "input", "output", "out mean", "|dL/dout|", "|dL/dparams|"]


class Trace(Mapping):
    """The records of one traced forward pass, by layer path, in call order (a read-only mapping)."""

    def __init__(self, model: Any, records: dict[str, LayerRecord], output: Any) -> None:
        self.model = model
        self._records = records
        self.raw_output = output
        self.loss: Tensor | None = None

    @property
    def output(self) -> Tensor | None:
        return _first_tensor(self.raw_output)

    def __getitem__(self, path: str) -> LayerRecord:
        try:
            return self._records[path]
        except KeyError:
            raise KeyError(f"trace: no layer {path!r}; traced layers: {list(self._records)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def backward(self, loss: Tensor) -> Trace:
        """Back-propagate ``loss`` (computed from :attr:`output`); the records then show gradients."""
        self.loss = loss
        loss.backward()
        return self

    def table(self) -> str:
        rows = [_HEADER] + [r._row() for r in self._records.values()]
        widths = [max(len(r[k]) for r in rows) for k in range(len(_HEADER))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        if self.loss is not None:
            lines.append(f"loss {float(_array(self.loss)):.6g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        rows = [r._row() for r in self._records.values()]
        head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADER)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
        loss = "" if self.loss is None else f"<p>loss {float(_array(self.loss)):.6g}</p>"
        return f"<table class='myelin-trace'><tr>{head}</tr>{body}</table>{loss}"


def _default_loss(output: Tensor, target: Any) -> Tensor:
    from ..nn import functional as F
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind in "iu":
        return F.cross_entropy(output, t)
    return F.mse_loss(output, as_tensor(t.astype(output.dtype)))


def trace(model: Any, x: Any, target: Any = None, loss_fn: Callable[[Any, Any], Tensor] | None = None,
          reference: bool | None = None) -> Trace:
    """Run ``model(x)`` recording every module call; with ``target``, also compute a loss and backward.

    Args:
        model: an ``nn.Module``.
        x: its input (a Tensor or an array). A copy that requires grad is used, so
            ``trace[path].grad_input`` of the first layer is the gradient with respect to the data.
        target: optional; the loss is ``loss_fn(output, target)``, by default cross-entropy for
            integer targets and mean squared error for float ones, then ``backward()`` runs.
            Without it call ``tr.backward(loss)`` yourself. Parameter gradients accumulate as usual.
        reference: run on the readable reference layers (recording recurrent gates per step);
            the default (None) does so when the model has a recurrent layer.
    Returns:
        a :class:`Trace`, a mapping from layer path to :class:`LayerRecord`.
    """
    from ..nn import reference as ref
    from ..nn.module import Module
    if not isinstance(model, Module):
        raise TypeError(f"trace: expected an nn.Module, received {type(model).__name__}")
    xt = as_tensor(x.data if isinstance(x, Tensor) else np.asarray(x)).detach()
    if xt.dtype.kind == "f":
        xt.requires_grad_()
    if reference is None:
        reference = any(_is_recurrent(m) for m in model.modules())
    records: dict[str, LayerRecord] = {}
    open_calls: list[tuple[LayerRecord, int]] = []
    handles = []
    with contextlib.ExitStack() as stack:
        steps = stack.enter_context(ref.record()) if reference else []
        if reference:
            stack.enter_context(ref.enabled())

        for name, module in model.named_modules():
            def pre(mod: Any, args: tuple, _name: str = name) -> None:
                key, k = _name, 1
                while key in records:
                    key, k = f"{_name}#{k}", k + 1
                rec = records[key] = LayerRecord(_name if key == _name else key, mod, args)
                for t in _tensors(args):
                    if t.requires_grad and not t.is_leaf:
                        t.retain_grad()
                open_calls.append((rec, len(steps)))

            def post(mod: Any, args: tuple, output: Any) -> None:
                rec, start = open_calls.pop()
                rec.raw_output = output
                for t in _tensors(output):
                    if t.requires_grad and not t.is_leaf:
                        t.retain_grad()
                if _is_recurrent(mod):
                    rec.steps = list(steps[start:])

            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        try:
            output = model(xt)
        finally:
            for h in handles:
                h.remove()
    result = Trace(model, records, output)
    if target is not None:
        out = result.output
        result.backward((loss_fn or _default_loss)(out, target))
    return result
