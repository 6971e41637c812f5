"""The affine map, written as its formula (twin of the optimised ``F.linear``)."""

from __future__ import annotations

from ...core.tensor import Tensor

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y = x W^T + b``: each output feature ``j`` is one neuron, ``sum_k x_k W[j, k] + b_j``.

    Input ``(*, in_features)``, weight ``(out_features, in_features)``, bias ``(out_features,)``;
    output ``(*, out_features)``. Two graph nodes (a matrix product and an addition), so the graph
    shows where each gradient comes from: ``dL/dW = g^T x``, ``dL/dx = g W``, ``dL/db = sum g``.
    """
    out = input @ weight.T
    if bias is not None:
        out = out + bias
    return out
