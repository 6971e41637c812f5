"""The math of one step for one neuron: the chain rule and the optimizer's update, with the numbers.

:func:`step_math` replays the session's last training step on the real engine with
:func:`myelin.viz.backward_steps` (the engine's observer, issue 14): the same weights as before
that step, the same batch and the same random state (dropout), so the replay's gradients are the
step's gradients (checked: ``matches_engine``). From the replay it takes, for the chosen neuron,

* the forward pass of one sample (the batch sample with the largest ``|dL/dz|``): inputs ``x``,
  ``z = w . x + b``, ``a = f(z)``;
* the backward pass: the incoming gradient ``dL/da`` (what the layers above send back), the local
  derivative ``f'(z)`` with its formula, their product ``dL/dz``; then ``dL/dw_i`` summed over the
  batch (``sum dL/dz * x_i``) and ``dL/db = sum dL/dz``;
* the update the optimizer applied to the neuron's bias and first weight: its rule, its
  hyperparameters and state, the value before and after.

Without :mod:`myelin.viz` it falls back on the gradients the session kept from the step itself
(``retain_grad`` on each layer's ``z`` and ``a``); ``source`` says which was used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["step_math"]

_LOCAL = {  # activation -> (formula of f'(z), f'(z) from z and a)
    "tanh": ("1 - tanh(z)^2", lambda z, a: 1 - a * a),
    "sigmoid": ("s(z) (1 - s(z))", lambda z, a: a * (1 - a)),
    "relu": ("1 if z > 0 else 0", lambda z, a: (z > 0).astype(np.float64)),
    "leaky_relu": ("1 if z > 0 else 0.01", lambda z, a: np.where(z > 0, 1.0, 0.01)),
    "linear": ("1 (no activation)", lambda z, a: np.ones_like(z)),
}


def _f(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def _replay(session: Any, before: dict[str, Any]) -> dict[str, Any]:
    """Forward and backward of the last step again, under the engine's observer."""
    import myelin
    import myelin.nn.functional as F
    from myelin import nn
    from myelin.viz import backward_steps

    from .session import COMPUTE_LOCK

    model = nn.from_config(session.model.get_config())
    for p, value in zip(model.parameters(), before["params"]):
        p.data[...] = value
    z_out: dict[int, Any] = {}
    a_out: dict[int, Any] = {}
    handles = []
    acts = [*session.act_index, session.linear_index[-1]]
    for layer, (li, ai) in enumerate(zip(session.linear_index, acts), 1):
        handles.append(model[li].register_forward_hook(lambda m, i, o, layer=layer: z_out.__setitem__(layer, o)))
        handles.append(model[ai].register_forward_hook(lambda m, i, o, layer=layer: a_out.__setitem__(layer, o)))
    x = session.data.x_train[before["idx"]]
    y = session.data.y_train[before["idx"]]
    s = session.settings
    with COMPUTE_LOCK, np.errstate(all="ignore"):
        myelin.set_rng_state(before["rng"])
        model.train()
        out = model(myelin.tensor(x))
        loss = session._loss(out, y)
        weights = [p for p in model.parameters() if p.ndim >= 2]
        if s["l1"]:
            loss = loss + s["l1"] * F.l1_penalty(weights)
        if s["l2"]:
            loss = loss + s["l2"] * F.l2_penalty(weights)
        steps = backward_steps(loss, names=model)
    for h in handles:
        h.remove()
    by_tensor = {id(st.tensor): st for st in steps if not st.leaf}
    return {"model": model, "x": x, "z": z_out, "a": a_out, "steps": by_tensor, "count": len(steps)}


def _inputs_of(rec: dict[str, Any], layer: int) -> np.ndarray:
    return rec["x"] if layer == 1 else rec["a"][layer - 1].data


def _update_lines(session: Any, param: Any, index: Any, before: float, grad: float, what: str) -> list[str]:
    opt = session.optimizer
    group = opt.param_groups[0]
    state = opt.state.get(param, {})
    after = float(param.data[index])
    name = type(opt).__name__
    lr = group["lr"]
    lines = []
    if name == "SGD":
        mom = group.get("momentum", 0)
        if mom:
            buf = float(np.asarray(state["momentum_buffer"])[index])
            lines.append(f"SGD with momentum {_f(mom)}: buf = momentum * buf + g = {_f(buf)};  "
                         f"{what} <- {what} - lr * buf = {_f(before)} - {_f(lr)} * {_f(buf)} = {_f(after)}")
        else:
            lines.append(f"SGD: {what} <- {what} - lr * g = {_f(before)} - {_f(lr)} * {_f(grad)} = {_f(after)}")
    elif name in ("Adam", "AdamW"):
        b1, b2 = group["betas"]
        t = int(state.get("step", 0))
        m = float(np.asarray(state["exp_avg"])[index])
        v = float(np.asarray(state["exp_avg_sq"])[index])
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        decay = f"; then {what} <- {what} * (1 - lr * {_f(group['weight_decay'])}) (decoupled weight decay)" if (
            group.get("decoupled_weight_decay") and group["weight_decay"]) else ""
        lines.append(f"{name}, step t = {t}: m = {_f(b1)} m + {_f(1 - b1)} g = {_f(m)};  "
                     f"v = {_f(b2)} v + {_f(1 - b2)} g^2 = {_f(v)}")
        lines.append(f"m_hat = m / (1 - {_f(b1)}^t) = {_f(m_hat)};  v_hat = v / (1 - {_f(b2)}^t) = {_f(v_hat)}{decay}")
        lines.append(f"{what} <- {what} - lr * m_hat / (sqrt(v_hat) + eps) = {_f(before)} - {_f(lr)} * {_f(m_hat)} / "
                     f"({_f(math.sqrt(max(v_hat, 0)))} + {_f(group['eps'])}) = {_f(after)}")
    elif name == "RMSprop":
        sq = float(np.asarray(state["square_avg"])[index])
        lines.append(f"RMSprop: s = {_f(group['alpha'])} s + {_f(1 - group['alpha'])} g^2 = {_f(sq)};  "
                     f"{what} <- {what} - lr * g / (sqrt(s) + eps) = {_f(before)} - {_f(lr)} * {_f(grad)} / "
                     f"({_f(math.sqrt(max(sq, 0)))} + {_f(group['eps'])}) = {_f(after)}")
    elif name == "Adagrad":
        acc = float(np.asarray(state["sum"])[index])
        lines.append(f"Adagrad: G = G + g^2 = {_f(acc)};  {what} <- {what} - lr * g / (sqrt(G) + eps) = "
                     f"{_f(before)} - {_f(lr)} * {_f(grad)} / ({_f(math.sqrt(max(acc, 0)))} + {_f(group['eps'])}) "
                     f"= {_f(after)}")
    lines.append(f"change of {what} in this step: {_f(after - before)}")
    return lines


def step_math(session: Any, layer: int, unit: int) -> dict[str, Any] | None:
    """The last step's chain rule and update for hidden or output neuron ``(layer, unit)``; ``None`` before any step."""
    before = getattr(session, "_before", None)
    if before is None or before.get("step") != session.steps:
        return None
    n_layers = len(session.linear_index)
    output = layer == n_layers
    act = "output" if output else session.settings["activation"]
    try:
        rec = _replay(session, before)
        source = (f"replay of step {session.steps} on the real engine with myelin.viz.backward_steps "
                  f"({rec['count']} backward steps observed)")
        z_t, a_t = rec["z"][layer], rec["a"][layer]
        z, a = z_t.data.astype(np.float64), a_t.data.astype(np.float64)
        act_step = rec["steps"].get(id(a_t)) if a_t is not z_t else None
        lin_step = rec["steps"].get(id(z_t))
        dz = np.asarray(lin_step.incoming, dtype=np.float64) if lin_step is not None else np.zeros_like(z)
        da = np.asarray(act_step.incoming, dtype=np.float64) if act_step is not None else dz
        inputs = _inputs_of(rec, layer).astype(np.float64)
        replay_grads = [getattr(p.grad, "data", p.grad) for p in rec["model"].parameters()]
        real = [getattr(p.grad, "data", p.grad) for p in session.model.parameters()]
        matches = all(r is not None and g is not None and np.array_equal(np.asarray(r), np.asarray(g))
                      for r, g in zip(replay_grads, real))
        local_text = act_step.parents[0].local if act_step is not None and act_step.parents else None
    except ImportError:  # no myelin.viz: the gradients the step itself kept (retain_grad)
        kept = session.last_step["layers"][layer]
        source = f"the gradients kept from step {session.steps} (retain_grad on z and a)"
        z, a = kept["z"].astype(np.float64), kept["a"].astype(np.float64)
        dz = np.zeros_like(z) if kept["dz"] is None else kept["dz"].astype(np.float64)
        da = dz if kept["da"] is None else kept["da"].astype(np.float64)
        inputs = (session.last_step["x"] if layer == 1 else session.last_step["layers"][layer - 1]["a"]).astype(
            np.float64)
        matches, local_text = None, None
    col_dz, col_da, col_z, col_a = dz[:, unit], da[:, unit], z[:, unit], a[:, unit]
    k = int(np.argmax(np.abs(col_dz)))
    lin = session.model[session.linear_index[layer - 1]]
    names = session.data.input_names if layer == 1 else [f"h{layer - 1}.{j}" for j in range(inputs.shape[1])]
    w_before = before["params"][2 * (layer - 1)][unit].astype(np.float64)
    b_before = float(before["params"][2 * (layer - 1) + 1][unit])
    terms = " + ".join(f"{_f(w)}*{_f(xv)}" for w, xv in list(zip(w_before, inputs[k]))[:4])
    more = " + ..." if len(w_before) > 4 else ""
    lines = [f"forward, sample {k + 1} of {len(col_z)} in the batch: z = w . x + b = {terms}{more} + {_f(b_before)} "
             f"= {_f(col_z[k])}" + ("" if output else f";  a = {act}(z) = {_f(col_a[k])}")]
    info: dict[str, Any] = {"source": source, "matches_engine": matches, "sample": k, "batch": len(col_z),
                            "z": float(col_z[k]), "a": float(col_a[k]), "incoming": float(col_da[k]),
                            "product": float(col_dz[k])}
    if output:
        loss = "cross-entropy on softmax: dL/dz = (softmax(z) - onehot(y)) / N" if (
            session.data.task == "classification") else "mean squared error: dL/dz = 2 (z - y) / N"
        lines.append(f"backward: {loss} = {_f(col_dz[k])}")
        info["local"] = None
    else:
        formula, fn = _LOCAL.get(act, (local_text or f"{act}'(z)", None))
        local = float(fn(col_z[k:k + 1], col_a[k:k + 1])[0]) if fn else (
            float(col_dz[k] / col_da[k]) if col_da[k] else float("nan"))
        info["local"] = local
        lines.append(f"backward: incoming dL/da = {_f(col_da[k])} (sent back by the layer above)")
        lines.append(f"local derivative da/dz = {formula} = {_f(local)}")
        lines.append(f"chain rule: dL/dz = dL/da * da/dz = {_f(col_da[k])} * {_f(local)} = {_f(col_da[k] * local)}"
                     f"  (engine: {_f(col_dz[k])})")
    dw = col_dz @ inputs
    db = float(col_dz.sum())
    info["dw"] = dw.tolist()
    info["db"] = db
    lines.append(f"dL/dw_i = sum over the batch of dL/dz * x_i: for {names[0]}: this sample {_f(col_dz[k])} * "
                 f"{_f(inputs[k, 0])} = {_f(col_dz[k] * inputs[k, 0])}; batch sum {_f(dw[0])}")
    lines.append(f"dL/db = sum over the batch of dL/dz = {_f(db)}")
    s = session.settings
    grads = getattr(lin.weight.grad, "data", lin.weight.grad)
    g_w0 = float(np.asarray(grads)[unit, 0])
    if s["l1"] or s["l2"]:
        lines.append(f"with the penalties: dL/dw = data part + {_f(s['l1'])} sign(w) + 2 * {_f(s['l2'])} w; "
                     f"for {names[0]}: {_f(g_w0)}")
    g_b = float(np.asarray(getattr(lin.bias.grad, "data", lin.bias.grad))[unit])
    info["update"] = _update_lines(session, lin.bias, unit, b_before, g_b, "b")
    info["update"] += _update_lines(session, lin.weight, (unit, 0), float(w_before[0]), g_w0, f"w[{names[0]}]")
    lines += ["update, as the optimizer applied it:", *info["update"]]
    info["lines"] = lines
    return info
