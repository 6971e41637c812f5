"""The training loop: ``fit`` (``evaluate`` and ``predict`` live in ``evaluate.py``).

``fit`` is a sequence of callback events around a plain PyTorch-style step
(``zero_grad``, forward, loss, ``backward``, penalties, clipping, ``step``). Data, batching,
validation, metrics, schedulers, checkpoints and Ctrl-C are handled here so a user writes one call.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .._plural import counted
from ..nn.utils.penalty import penalized_parameters
from .callbacks import CallbackList, ModelCheckpoint
from .evaluate import (
    DEFAULT_METRICS,
    as_numpy,
    evaluate,
    loss_value,
    make_loader,
    metrics_for,
    predict,
    run_eval,
    split_last,
    unpack_batch,
)
from .history import Callback, History
from .metrics import Metric, resolve_loss
from .progress import Progress
from .threads import BlasThreads

__all__ = ["TrainingDivergedError", "evaluate", "fit", "predict"]

_OPTIMIZERS = {"sgd": ("SGD", 1e-2), "adam": ("Adam", 1e-3), "adamw": ("AdamW", 1e-3),
               "rmsprop": ("RMSprop", 1e-3), "adagrad": ("Adagrad", 1e-2)}
_PER_BATCH_SCHEDULERS = {"OneCycleLR", "CyclicLR"}
#: An epoch's running loss this many times above the run's first batch loss stops training as diverged.
DIVERGED_FACTOR = 1000.0


class TrainingDivergedError(FloatingPointError):
    """The loss (or the weights) became NaN or infinite. ``epoch`` and ``batch`` are 1-based."""

    def __init__(self, message: str, epoch: int, batch: int) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch


# ------------------------------------------------------------------------------------------ fit helpers


def _resolve_optimizer(optimizer: Any, model: Any) -> Any:
    if not isinstance(optimizer, str):
        if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
            raise TypeError(f"fit: expected an Optimizer or a name, received {type(optimizer).__name__}")
        return optimizer
    key = optimizer.lower().replace("_", "")
    if key not in _OPTIMIZERS:
        raise ValueError(f"fit: unknown optimizer {optimizer!r}, expected an Optimizer or one of {sorted(_OPTIMIZERS)}")
    from .. import optim

    cls_name, lr = _OPTIMIZERS[key]
    return getattr(optim, cls_name)(model.parameters(), lr=lr)


def _per_batch(scheduler: Any) -> bool:
    flag = getattr(scheduler, "step_per_batch", None)
    return bool(flag) if flag is not None else type(scheduler).__name__ in _PER_BATCH_SCHEDULERS


def _check_args(epochs: Any, batch_size: Any, validation_split: Any, l1: Any, l2: Any, clip: Any) -> None:
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"fit: expected {name} to be an int >= {low}, received {value!r}")
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"fit: expected 0 <= validation_split < 1, received {validation_split!r}")
    for name, value in (("l1", l1), ("l2", l2)):
        if not isinstance(value, (int, float)) or value < 0 or not math.isfinite(value):
            raise ValueError(f"fit: expected {name} to be a number >= 0, received {value!r}")
    if clip is not None and (not isinstance(clip, (int, float)) or not clip > 0):
        raise ValueError(f"fit: expected clip_grad_norm to be None or a number > 0, received {clip!r}")


class _Interrupt:
    """SIGINT and SIGTERM handlers for the duration of ``fit`` (main thread only): the first signal sets
    a flag (training stops after the current batch and saves); another one at least ``force_after``
    seconds later raises ``KeyboardInterrupt`` at once (a double press of Ctrl-C counts once)."""

    force_after = 1.0

    def __init__(self) -> None:
        self.flag = False
        self.signum: int | None = None
        self._first = 0.0
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.flag:
            if time.monotonic() - self._first >= self.force_after:
                raise KeyboardInterrupt
            return
        self.flag, self.signum, self._first = True, signum, time.monotonic()

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if sig is None:
                continue
            old = signal.getsignal(sig)
            if old is not signal.SIG_IGN:
                self._old[sig] = old
                signal.signal(sig, self._handler)

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            if old is None:
                old = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            signal.signal(sig, old)
        self._old = {}


def _add_penalty_grads(params: list[Any], l1: float, l2: float) -> None:
    """Add the gradients of ``l1 * sum|w| + l2 * sum w**2`` straight into ``.grad`` (no graph nodes)."""
    for p in params:
        w = p.data
        extra = (2.0 * l2) * w if l2 else None
        if l1:
            term = l1 * np.sign(w)
            extra = term if extra is None else extra + term
        if p.grad is None:
            p.grad = extra.astype(w.dtype, copy=False)
        else:
            p.grad.data += extra


def _penalty_value(params: list[Any], l1: float, l2: float) -> float:
    """``l1 * sum|w| + l2 * sum w**2`` over ``params`` (the History's ``penalty``, after each epoch)."""
    total = 0.0
    for p in params:
        w = p.data.reshape(-1).astype(np.float64)
        if l1:
            total += l1 * float(np.abs(w).sum())
        if l2:
            total += l2 * float(np.dot(w, w))
    return total


class _Trainer:
    """The state of one ``fit`` call; callbacks reach it as ``self.trainer`` (``save_checkpoint``)."""

    def __init__(self, model: Any, optimizer: Any, scheduler: Any, loader: Any, val_loader: Any,
                 loss_fn: Callable[..., Any], metrics: list[Metric], val_metrics: list[Metric],
                 progress: Progress, epochs: int, l1: float, l2: float, clip: float | None) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loader, self.val_loader, self.loss_fn = loader, val_loader, loss_fn
        self.metrics, self.val_metrics, self.progress, self.epochs = metrics, val_metrics, progress, epochs
        self.l1, self.l2, self.clip = float(l1), float(l2), clip
        self.per_batch = scheduler is not None and _per_batch(scheduler)
        self.params = list(model.parameters())
        self.penalized = [p for _, p in penalized_parameters(model)] if (l1 or l2) else []
        self.history = History()
        self.callbacks = CallbackList([self.history])
        self.interrupt = _Interrupt()
        self.epochs_done = 0  # completed epochs in the whole run
        self.step = 0  # optimizer steps in the whole run
        self.batch = 0  # batches done in the current epoch
        self.in_epoch = False
        self.epoch_rng_state: dict[str, Any] | None = None
        self.loss_sum, self.count, self.epoch_start = 0.0, 0, 0.0
        self._resume_partial: tuple[int, dict[str, Any], dict[str, Any] | None] | None = None
        self.start_loss: float | None = None  # the first finite batch loss of this fit call
        self._recent: deque[float] = deque(maxlen=5)
        self.dist: Any = None  # the myelin.distributed module when fit(distributed=True)

    # checkpoints -------------------------------------------------------------------------------
    def save_checkpoint(self, path: Any, partial: bool = False) -> None:
        """Write the whole training state; ``partial`` also keeps an unfinished epoch's progress."""
        from ..io.checkpoint import save_checkpoint

        if self.dist is not None and not self.dist.is_main():  # one writer: rank 0
            return

        partial_state, batch = None, 0
        if partial and self.in_epoch and self.batch > 0:
            batch = self.batch
            partial_state = {
                "epoch_rng_state": self.epoch_rng_state, "loss_sum": self.loss_sum, "count": self.count,
                "metrics": {m.name: m.state() for m in self.metrics},
                "elapsed": time.perf_counter() - self.epoch_start,
                "world_size": self.dist.world_size() if self.dist is not None else 1,
            }
        save_checkpoint(
            path, self.model, optimizer=self.optimizer, scheduler=self.scheduler, epoch=self.epochs_done,
            step=self.step, batch=batch, history=self.history, loader_epoch=getattr(self.loader, "epoch", None),
            callbacks=self.callbacks.state_dicts(), partial=partial_state,
        )

    def resume(self, path: Any) -> None:
        from ..io import ModelFileError, load_checkpoint
        from ..io.checkpoint import check_rng_state

        ckpt = load_checkpoint(path)
        scheduler = self.scheduler if ckpt.scheduler_state is not None else None
        ckpt.restore(self.model, self.optimizer, scheduler, rng=True)
        n = max((len(v) for v in ckpt.history.values()), default=0)
        self.history.history = {k: list(v) for k, v in ckpt.history.items()}
        self.history.epoch = list(range(n))
        self.epochs_done, self.step = ckpt.epoch, ckpt.step
        try:
            self.callbacks.load_state_dicts(ckpt.callbacks)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{ckpt.source}: bad callback state: {type(exc).__name__}: {exc}") from None
        if ckpt.batch:
            if ckpt.partial is None:
                raise ModelFileError(
                    f"{ckpt.source}: checkpoint is {counted(ckpt.batch, 'batch')} into an epoch but has no partial state"
                )
            check_rng_state(ckpt.partial.get("epoch_rng_state"), ckpt.source)
            ranks = self.dist.world_size() if self.dist is not None else 1
            if ckpt.partial.get("world_size", 1) != ranks:
                raise ModelFileError(
                    f"{ckpt.source}: this checkpoint stopped mid-epoch on {ckpt.partial.get('world_size', 1)} "
                    f"rank(s); resume it on as many (now {ranks}), or resume an end-of-epoch checkpoint"
                )
            self._resume_partial = (ckpt.batch, ckpt.partial, ckpt.rng_state)

    def _restore_partial(self, it: Iterator[Any], skip: int, partial: dict[str, Any], rng: Any) -> float:
        """Skip the batches an interrupted epoch already did and restore its running sums."""
        from ..io import ModelFileError
        from ..random import set_rng_state

        try:
            for _ in range(skip):
                next(it)
            if rng is not None:
                set_rng_state(rng)
            self.loss_sum, self.count = float(partial["loss_sum"]), int(partial["count"])
            for m in self.metrics:
                m.load_state(partial["metrics"][m.name])
            return float(partial["elapsed"])
        except StopIteration:
            raise ModelFileError(f"checkpoint: {counted(skip, 'batch')} done exceeds the epoch's length") from None
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelFileError(f"checkpoint: bad partial-epoch state: {type(exc).__name__}: {exc}") from None

    # the loop ------------------------------------------------------------------------------------
    def _should_stop(self) -> bool:
        stop = self.interrupt.flag or self.callbacks.stop_training
        return self.dist.any_rank(stop) if self.dist is not None else stop  # all ranks stop at the same batch

    def run(self) -> None:
        for epoch in range(self.epochs_done, self.epochs):
            finished = self._run_epoch(epoch)
            if not finished or self._should_stop():
                break

    def _run_epoch(self, epoch: int) -> bool:
        """One epoch; False when it stopped early (Ctrl-C or ``stop_training`` in a batch hook)."""
        from ..random import get_rng_state, set_rng_state

        self.model.train(True)
        self.callbacks.on_epoch_begin(epoch, {})
        resume, self._resume_partial = self._resume_partial, None
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)
        if resume is not None and resume[1].get("epoch_rng_state") is not None:
            set_rng_state(resume[1]["epoch_rng_state"])
        self.epoch_rng_state = get_rng_state()
        it = iter(self.loader)
        for m in self.metrics:
            m.reset()
        self.loss_sum, self.count, skip, elapsed = 0.0, 0, 0, 0.0
        if resume is not None:
            skip = resume[0]
            elapsed = self._restore_partial(it, skip, resume[1], resume[2])
        steps = len(self.loader) if hasattr(self.loader, "__len__") else None
        self.batch, self.in_epoch = skip, True
        self.progress.epoch_begin(epoch, steps, initial=skip)
        self.epoch_start = time.perf_counter() - elapsed
        for b, batch in enumerate(it, start=skip):
            self.callbacks.on_batch_begin(b, {"batch": b})
            value, n = self._train_step(batch, epoch, b)
            self.loss_sum += value * n
            self.count += n
            self.step += 1
            self.batch = b + 1
            self.callbacks.on_batch_end(b, {"batch": b, "size": n, "loss": value})
            self._check_far_above_start(value, epoch, b)  # after the callbacks: a monitor sees the batch first
            self.progress.batch_end(self.loss_sum / self.count)
            if self._should_stop() and (steps is None or b + 1 < steps):
                return False
        self._end_epoch(epoch)
        return True

    def _train_step(self, batch: Any, epoch: int, b: int) -> tuple[float, int]:
        x, y = unpack_batch(batch)
        self.optimizer.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        value = loss_value(loss)
        if math.isfinite(value) and self.start_loss is None:
            self.start_loss = value
        if not math.isfinite(value):
            lr = self.optimizer.param_groups[0]["lr"]
            raise TrainingDivergedError(
                f"fit: the loss became {value} at epoch {epoch + 1}, batch {b + 1} (lr={lr:g}): training diverged. "
                f"Try a lower learning rate (e.g. lr={lr / 10:g}), clip_grad_norm=1.0, or check the data for "
                "NaN/inf. The weights are those from before this batch; checkpoints already written are intact.",
                epoch + 1, b + 1,
            )
        loss.backward()
        if self.penalized:
            _add_penalty_grads(self.penalized, self.l1, self.l2)
        if self.clip is not None:
            from ..nn.utils import clip_grad_norm_

            if self.dist is not None:
                self.optimizer.synchronize()  # clip the averaged gradient, as one process would

            clip_grad_norm_(self.params, self.clip)
        self.optimizer.step()
        if self.per_batch:
            self.scheduler.step()
        y_np, out_np = as_numpy(y), as_numpy(out)
        for m in self.metrics:
            m.update(out_np, y_np)
        return value, len(y_np)

    def _check_far_above_start(self, value: float, epoch: int, b: int) -> None:
        """Raise :class:`TrainingDivergedError` when the mean loss of the last batches is ``DIVERGED_FACTOR``
        times the first batch's (a finite loss can diverge too: lr=1e6 reaches 1e12 without a NaN)."""
        start = self.start_loss
        if start is None or start <= 0 or not math.isfinite(value):
            return
        self._recent.append(value)
        running = sum(self._recent) / len(self._recent)  # over a few batches: one odd batch is no divergence
        if running <= DIVERGED_FACTOR * max(start, 1e-3):
            return
        lr = self.optimizer.param_groups[0]["lr"]
        raise TrainingDivergedError(
            f"fit: the loss rose from {start:.4g} to {running:.4g} (over {DIVERGED_FACTOR:g} times its start) by "
            f"epoch {epoch + 1}, batch {b + 1} (lr={lr:g}): training diverged. Try a lower learning rate "
            f"(e.g. lr={lr / 10:g}) or clip_grad_norm=1.0. Checkpoints already written are intact.",
            epoch + 1, b + 1,
        )

    def _check_optimizer_state(self, epoch: int) -> None:
        """The optimizer's running statistics must stay finite: an overflow there (e.g. ``l2=1e30``) stops
        every update while the loss looks fine."""
        state = getattr(self.optimizer, "state", None)
        if not isinstance(state, dict):
            return
        for values in state.values():
            for name, value in (values.items() if isinstance(values, dict) else ()):
                if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
                    raise TrainingDivergedError(
                        f"fit: the optimizer's {name!r} overflowed to infinity or NaN during epoch {epoch + 1}, so the "
                        f"weights stopped changing (l1={self.l1:g}, l2={self.l2:g}, lr="
                        f"{self.optimizer.param_groups[0]['lr']:g}): training diverged. Use smaller penalties or a "
                        "lower learning rate.", epoch + 1, self.batch,
                    )

    def _end_epoch(self, epoch: int) -> None:
        self.in_epoch = False
        self._check_optimizer_state(epoch)
        if not all(np.isfinite(p.data).all() for p in self.params):
            raise TrainingDivergedError(
                f"fit: the weights became NaN or infinite during epoch {epoch + 1} (by batch {self.batch}) although "
                "the loss stayed finite: training diverged. Try a lower learning rate or clip_grad_norm=1.0.",
                epoch + 1, self.batch,
            )
        if self.dist is not None:  # loss and metrics over every rank's samples
            self.loss_sum, self.count = self.dist.reduce_metrics(self.metrics, self.loss_sum, self.count)
        logs: dict[str, Any] = {"loss": self.loss_sum / self.count if self.count else float("nan")}
        if self.penalized:
            logs["penalty"] = _penalty_value(self.penalized, self.l1, self.l2)
        logs.update({m.name: m.result() for m in self.metrics})
        if self.val_loader is not None:
            val = run_eval(self.model, self.val_loader, self.loss_fn, self.val_metrics)
            logs.update({f"val_{k}": v for k, v in val.items()})
            self.model.train(True)
        logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
        logs["epoch_time"] = time.perf_counter() - self.epoch_start
        if self.dist is not None:  # rank 0's logs on every rank: callbacks and schedulers decide alike
            logs = self.dist.broadcast_object(logs)
        if self.scheduler is not None and not self.per_batch:
            if type(self.scheduler).__name__ == "ReduceLROnPlateau":
                self.scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                self.scheduler.step()
        self.epochs_done, self.batch = epoch + 1, 0
        self.progress.epoch_end(epoch, logs)
        self.callbacks.on_epoch_end(epoch, logs)


def fit(
    model: Any,
    train_data: Any,
    *,
    loss: Any,
    optimizer: Any,
    epochs: int,
    batch_size: int = 32,
    validation_data: Any = None,
    validation_split: float = 0.0,
    metrics: Any = DEFAULT_METRICS,
    callbacks: Iterable[Callback] = (),
    l1: float = 0.0,
    l2: float = 0.0,
    clip_grad_norm: float | None = None,
    scheduler: Any = None,
    resume_from: Any = None,
    shuffle: bool = True,
    seed: int | None = None,
    verbose: Any = "auto",
    distributed: bool = False,
    threads: Any = "auto",
    live: bool = False,
) -> History:
    """Train ``model`` and return its :class:`History`.

    Args:
        train_data: ``(x, y)`` arrays/tensors, a Dataset or a DataLoader (used as is: ``batch_size``
            and ``shuffle`` then come from it).
        loss: a callable ``loss(output, target)`` (F function or loss module) or a name
            (``"cross_entropy"``, ``"mse"``, ``"mae"``, ``"bce"``, ``"bce_with_logits"``, ``"nll"``, ``"huber"``).
        optimizer: an Optimizer, or a name (``"adam"``, ``"adamw"``, ``"rmsprop"`` at lr 1e-3; ``"sgd"``,
            ``"adagrad"`` at 1e-2).
        epochs: epochs of the WHOLE run: resuming a checkpoint taken after epoch 2 with ``epochs=4``
            trains epochs 3 and 4.
        validation_data: ``(x, y)``, a Dataset or a DataLoader, evaluated after every epoch.
        validation_split: the LAST fraction of the training samples (before shuffling, as Keras does)
            is held out for validation; needs arrays, a Dataset or a DataLoader's dataset.
        metrics: names (spelled any way: ``"acc"``, ``"Accuracy"``...) or callables; History keys are
            fixed: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``, ``epoch_time``
            (+ ``mae``/``mse``). The default accuracy is dropped for regression losses (mse, mae, huber).
        l1, l2: penalties ``l1 * sum|w| + l2 * sum w**2`` on the WEIGHTS only, chosen by role
            (``nn.utils.penalized_parameters``): every layer's weights whatever their shape (a
            ``Neuron``'s 1-D weights included; Linear/Conv/RNN/attention weights, embeddings), never
            biases nor normalisation scales and shifts nor PReLU slopes, as Keras's kernel
            regularizers (for decay of every parameter use the optimizer's ``weight_decay``). Their
            gradients are added to ``.grad``; ``loss`` in the History is the data loss alone,
            comparable with ``val_loss``, and ``penalty`` the penalty's value after each epoch.
        clip_grad_norm: clip the global gradient norm to this value before each step.
        scheduler: an LR scheduler stepped once per epoch (ReduceLROnPlateau with ``val_loss``, or
            ``loss`` without validation), or per batch for OneCycleLR/CyclicLR (or any scheduler
            with ``step_per_batch = True``).
        resume_from: a checkpoint written by :class:`ModelCheckpoint`; restores model, optimizer,
            scheduler, RNG, History, callback states and a partly done epoch, so the resumed run
            ends bit-identical to an uninterrupted one.
        seed: seeds the library RNG (dropout) and the data order (``DataLoader(seed=seed)``);
            the model's initial weights come from before ``fit`` (call ``myelin.manual_seed`` first).
        verbose: ``"auto"``/1: a tqdm bar per epoch on a terminal, one summary line per epoch
            otherwise (stderr); 2: always summary lines; 0: silent.
        distributed: data-parallel training over MPI (run the script with ``mpirun -n N``; needs
            ``pip install ".[mpi]"``): ``batch_size`` is the GLOBAL batch, each rank trains on
            ``batch_size / N`` of it, gradients are averaged with one Allreduce per step, and only rank 0
            writes checkpoints and progress. See ``myelin.distributed`` and docs/distributed.md.
        threads: NumPy's BLAS threads during ``fit``: ``"auto"`` leaves a user's OPENBLAS_NUM_THREADS /
            OMP_NUM_THREADS / ``myelin.set_num_threads`` alone, else uses one thread for small models
            and leaves out cores other processes keep busy (``myelin.train.threads``); an int sets
            it; None leaves BLAS's default. ``history.blas_threads`` says what was chosen and why.
        live: in a Jupyter notebook, draw the learning curves after every epoch, updating one chart
            in place (:class:`~myelin.train.live.LiveCurves`; does nothing outside a notebook).

    Ctrl-C (SIGINT, main thread) stops after the current batch: the History of the completed
    epochs is returned (``history.interrupted`` is True), each ModelCheckpoint writes a final,
    resumable checkpoint, and ``on_train_end`` runs. A second Ctrl-C raises KeyboardInterrupt. Resuming
    such a checkpoint skips the batches already done (``on_epoch_begin`` runs again for that epoch).
    A NaN or infinite loss raises :class:`TrainingDivergedError` naming the epoch and batch.
    The model's train/eval mode is restored when ``fit`` returns.
    """
    _check_args(epochs, batch_size, validation_split, l1, l2, clip_grad_norm)
    blas = BlasThreads(model, threads, distributed=distributed)
    if seed is not None:
        from ..random import manual_seed

        manual_seed(seed)
    loss_fn = resolve_loss(loss)
    optimizer = _resolve_optimizer(optimizer, model)
    if validation_split:
        if validation_data is not None:
            raise ValueError("fit: give validation_data or validation_split, not both")
        train_data, validation_data = split_last(train_data, float(validation_split))
    loader = make_loader(train_data, batch_size, shuffle, seed, "fit")
    if hasattr(loader, "__len__") and len(loader) == 0:
        n = len(loader.dataset) if hasattr(loader, "dataset") and hasattr(loader.dataset, "__len__") else 0
        raise ValueError(f"fit: the training data gives no batch ({counted(n, 'sample')}, batch_size {batch_size}); "
                         "expected at least one sample")
    dist = None
    if distributed:
        from .. import distributed as dist

        dist.init(required=True)
        loader = dist.shard_loader(loader, seed)  # this rank's share of every global batch
        optimizer = dist.DistributedOptimizer(optimizer, model)  # checks the ranks agree; step() averages
    val_loader = None
    if validation_data is not None:
        val_loader = make_loader(validation_data, max(batch_size, 256), False, None, "fit: validation_data")
    trainer = _Trainer(
        model, optimizer, scheduler, loader, val_loader, loss_fn, metrics_for(metrics, loss),
        metrics_for(metrics, loss), Progress(verbose if dist is None or dist.is_main() else 0, epochs), epochs,
        l1, l2, clip_grad_norm,
    )
    trainer.dist = dist
    history = trainer.history
    if live:
        from .live import LiveCurves
        callbacks = [*callbacks, LiveCurves()]
    cbs = trainer.callbacks = CallbackList([history, *callbacks])
    params = {"epochs": epochs, "steps": len(loader) if hasattr(loader, "__len__") else None,
              "batch_size": getattr(loader, "batch_size", batch_size), "initial_epoch": 0,
              "metrics": [m.name for m in trainer.metrics]}
    cbs.set_context(model=model, optimizer=optimizer, scheduler=scheduler, history=history, trainer=trainer,
                    params=params)
    if resume_from is not None:
        trainer.resume(resume_from)
    if dist is not None:  # rank 0's weights, optimizer, scheduler, RNG and counters on every rank
        trainer.epochs_done, trainer.step = dist.sync_training_state(
            model, optimizer, scheduler, [trainer.epochs_done, trainer.step])
    if resume_from is not None:
        params["initial_epoch"] = trainer.epochs_done
    was_training = getattr(model, "training", True)
    history.blas_threads = blas.choice
    with trainer.interrupt, blas:
        try:
            cbs.on_train_begin({})
            trainer.run()
        finally:
            trainer.progress.close()
            model.train(was_training)
        if trainer.interrupt.flag:
            history.interrupted = True
            history.interrupt_signal = trainer.interrupt.signum  # SIGINT or SIGTERM
            epoch = trainer.epochs_done if trainer.in_epoch else max(trainer.epochs_done - 1, 0)
            written = [cb.save_interrupted(epoch) for cb in cbs.of_type(ModelCheckpoint)]
            where = f"; checkpoint written to {', '.join(written)}" if written else ""
            batch = trainer.batch if trainer.in_epoch else 0
            trainer.progress.message(f"Interrupted after epoch {trainer.epochs_done}, batch {batch}{where}")
        elif cbs.stop_training:
            history.stopped_early = True
        cbs.on_train_end({})
    return history
