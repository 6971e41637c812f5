"""scikit-learn estimators backed by a Myelin MLP: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They follow scikit-learn's rules (parameters stored verbatim by ``__init__``, validated in ``fit``;
fitted attributes end in ``_``), so they work in ``Pipeline``, ``GridSearchCV``, ``cross_val_score``,
``clone`` and pass ``sklearn.utils.estimator_checks``::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from myelin.sklearn import NeuralNetClassifier

    clf = make_pipeline(StandardScaler(), NeuralNetClassifier((64,), epochs=50, random_state=0))
    clf.fit(X_train, y_train).score(X_test, y_test)

Training runs a small loop of its own rather than :func:`myelin.train.fit` (shuffle, mini-batches,
one optimizer step per batch): ``partial_fit`` needs one epoch per call with the optimizer's state
kept warm, the stopping rules are scikit-learn's (training loss, or a held-out accuracy / R^2 with
``early_stopping=True``), and the loop adds nothing per step beyond the math. Weights start as in
scikit-learn's ``MLPClassifier`` (Glorot uniform) and are float32; predictions are computed in
float64 from them, so they do not depend on how rows are batched.

Randomness (weight initialisation, dropout masks, shuffling) comes from one private generator per
estimator, seeded from ``random_state`` at each ``fit`` (or from :func:`myelin.random.get_rng` when
``random_state`` is None, so :func:`myelin.manual_seed` also makes runs repeatable). While an
estimator trains, that generator is swapped into :mod:`myelin.random` under a lock and the global
generator is restored afterwards: training never disturbs the caller's random stream, and fits
running in several threads stay reproducible.

scikit-learn is an optional extra: ``pip install ".[sklearn]"`` in a checkout, or
``pip install "myelin-nn[sklearn]"`` from PyPI once published.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data  # scikit-learn >= 1.6
except ImportError as _err:  # pragma: no cover - exercised only without the extra
    from ._extras import install_hint

    raise ImportError(f"myelin.sklearn needs scikit-learn, an optional extra: {install_hint('sklearn')}") from _err


from . import nn, optim
from ._plural import counted
from .core.creation import from_numpy
from .nn import functional as F
from .nn.activation import make_activation
from .random import get_rng, get_rng_state, set_rng_state

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "rmsprop": optim.RMSprop,
               "adagrad": optim.Adagrad}
_RNG_LOCK = threading.RLock()  # one estimator at a time owns myelin's global generator


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)


class _BaseNeuralNet(BaseEstimator):
    """Parameters, training loop and stopping rules shared by the two estimators (see their docstrings).

    Subclasses define ``_validate_xy(X, y, reset)``, ``_prepare_targets(y, first, classes)`` (the
    training targets; on the first call also the target attributes), ``_n_outputs()``,
    ``_loss(output, target)`` and ``_validation_score(X, target)``.
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        epochs: int = 200,
        batch_size: int | str = "auto",
        momentum: float = 0.9,
        dropout: float = 0.0,
        l1: float = 0.0,
        l2: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.momentum = momentum
        self.dropout = dropout
        self.l1 = l1
        self.l2 = l2
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    def _check_params(self) -> tuple[int, ...]:
        """Validate the hyperparameters (scikit-learn defers this to ``fit``); return the hidden sizes."""
        name = type(self).__name__

        def fail(param: str, expected: str) -> None:
            raise ValueError(f"{name}: expected {param} to be {expected}, received {getattr(self, param)!r}")

        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if _is_int(sizes) else sizes
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            fail("hidden_layer_sizes", "an int or a sequence of ints >= 1")
        sizes = tuple(sizes)
        if not all(_is_int(s) and s >= 1 for s in sizes):
            fail("hidden_layer_sizes", "an int or a sequence of ints >= 1")
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in _OPTIMIZERS:
            fail("optimizer", f"one of {sorted(_OPTIMIZERS)}")
        if not isinstance(self.activation, str):
            fail("activation", "an activation name such as 'relu' or 'tanh'")
        make_activation(self.activation, name, "activation")  # a ValueError naming the valid ones
        for param, low in (("epochs", 1), ("n_iter_no_change", 1)):
            if not (_is_int(getattr(self, param)) and getattr(self, param) >= low):
                fail(param, f"an int >= {low}")
        if not (self.batch_size == "auto" or (_is_int(self.batch_size) and self.batch_size >= 1)):
            fail("batch_size", "'auto' or an int >= 1")
        if not (_is_real(self.learning_rate) and self.learning_rate > 0):
            fail("learning_rate", "a number > 0")
        for param in ("l1", "l2", "momentum"):
            if not (_is_real(getattr(self, param)) and getattr(self, param) >= 0):
                fail(param, "a number >= 0")
        if not (_is_real(self.dropout) and 0 <= self.dropout < 1):
            fail("dropout", "a number in [0, 1)")
        if not (_is_real(self.validation_fraction) and 0 < self.validation_fraction < 1):
            fail("validation_fraction", "a number in (0, 1)")
        if not (isinstance(self.tol, Real) and not isinstance(self.tol, bool)):
            fail("tol", "a number")
        if not _is_int(self.verbose) and not isinstance(self.verbose, bool):
            fail("verbose", "an int")
        return sizes

    # ------------------------------------------------------------------ randomness
    @contextmanager
    def _own_rng(self) -> Iterator[np.random.Generator]:
        """Make this estimator's generator myelin's global one for the duration of the block."""
        with _RNG_LOCK:
            saved = get_rng_state()
            set_rng_state(self._rng_state)
            try:
                yield get_rng()
            finally:
                self._rng_state = get_rng_state()
                set_rng_state(saved)

    def _seed(self) -> None:
        if self.random_state is None:
            seed = int(get_rng().integers(2**63))
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._rng_state = np.random.default_rng(seed).bit_generator.state

    # ------------------------------------------------------------------ model
    def _initialize(self, n_features: int, sizes: tuple[int, ...]) -> None:
        """Build the network and its optimizer, and reset the training record."""
        with self._own_rng():
            self.model_ = nn.MLP([n_features, *sizes, self._n_outputs()], activation=self.activation,
                                 dropout=float(self.dropout))
            factor = 2.0 if self.activation.lower() == "sigmoid" else 6.0
            for layer in self.model_.modules():  # scikit-learn's MLP initialisation (Glorot uniform)
                if isinstance(layer, nn.Linear):
                    bound = float(np.sqrt(factor / (layer.in_features + layer.out_features)))
                    nn.init.uniform_(layer.weight, -bound, bound)
                    nn.init.uniform_(layer.bias, -bound, bound)
        params = list(self.model_.parameters())
        name = self.optimizer.lower()
        kwargs: dict[str, Any] = {"lr": float(self.learning_rate)}
        if name == "sgd":
            kwargs["momentum"] = float(self.momentum)
        if name == "adamw":
            kwargs["weight_decay"] = 0.0  # regularisation is l1 / l2
        self._optimizer = _OPTIMIZERS[name](params, **kwargs)
        self._weights = [m.weight for m in self.model_.modules() if isinstance(m, nn.Linear)]
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0

    def _penalty(self) -> float:
        l1, l2 = float(self.l1), float(self.l2)
        if not (l1 or l2):
            return 0.0
        total = 0.0
        for w in self._weights:
            flat = w.data.reshape(-1)
            total += l1 * float(np.abs(flat).sum()) + l2 * float(np.dot(flat, flat))
        return total

    def _run_epoch(self, X: np.ndarray, target: np.ndarray) -> float:
        """One pass over ``(X, target)`` in mini-batches; returns the mean loss plus the penalty."""
        n = X.shape[0]
        bs = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        l1, l2 = np.float32(self.l1), np.float32(self.l2)
        model, opt = self.model_, self._optimizer
        model.train()
        total = 0.0
        with self._own_rng() as rng, np.errstate(over="ignore", invalid="ignore"):  # divergence: raised below
            if self.shuffle:
                order = rng.permutation(n)
                X, target = X[order], target[order]
            for start in range(0, n, bs):
                xb, tb = X[start:start + bs], target[start:start + bs]
                opt.zero_grad()
                loss = self._loss(model(from_numpy(xb)), tb)
                loss.backward()
                if l1 or l2:
                    for w in self._weights:  # d/dw (l1 |w| + l2 w^2), straight into .grad
                        if l2:
                            w.grad.data += (2 * l2) * w.data
                        if l1:
                            w.grad.data += l1 * np.sign(w.data)
                opt.step()
                total += float(loss.data) * xb.shape[0]
        value = total / n + self._penalty()
        if not np.isfinite(value):
            raise ValueError(f"{type(self).__name__}: the training loss became {value} at epoch {self.n_iter_ + 1}; "
                             "try a smaller learning_rate or scaled inputs (e.g. StandardScaler)")
        self.n_iter_ += 1
        self.loss_curve_.append(value)
        return value

    def _forward(self, X: Any) -> np.ndarray:
        """The network's raw outputs for ``X`` in float64 (eval mode: dropout off)."""
        check_is_fitted(self)
        return self._outputs(validate_data(self, X, reset=False, dtype=np.float64))

    def _outputs(self, h: np.ndarray) -> np.ndarray:
        """Run the trained layers on the array ``h`` in its own dtype, without recording a graph.

        NumPy for ``Linear`` (the weights cast to ``h``'s dtype), Myelin for the activations on
        tensors that do not require grad; dropout is skipped. No ``no_grad`` block: Myelin's grad
        mode is process-wide, and toggling it here would break a fit running in another thread.
        """
        for layer in self.model_.layers:
            if isinstance(layer, nn.Linear):
                h = h @ layer.weight.data.T.astype(h.dtype, copy=False)
                if layer.bias is not None:
                    h += layer.bias.data
            elif not isinstance(layer, nn.Dropout):
                h = layer(from_numpy(h)).data
        return h

    # ------------------------------------------------------------------ fitting
    def _fit(self, X: Any, y: Any) -> _BaseNeuralNet:
        sizes = self._check_params()
        X, y = self._validate_xy(X, y, reset=True)
        target = self._prepare_targets(y, first=True)
        self._seed()
        self._initialize(X.shape[1], sizes)
        X_val = t_val = None
        if self.early_stopping:
            X, X_val, target, t_val = self._split(X, target)
            self.validation_scores_: list[float] = []
            self.best_validation_score_ = -np.inf
        else:
            self.best_loss_ = np.inf
        best_state, stale = None, 0
        tol = float(self.tol)
        for epoch in range(int(self.epochs)):
            loss = self._run_epoch(X, target)
            if X_val is not None:
                score = self._validation_score(X_val, t_val)
                self.validation_scores_.append(score)
                stale = stale + 1 if score < self.best_validation_score_ + tol else 0
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_state = {k: v.copy() for k, v in self.model_.state_dict().items()}
            else:
                stale = stale + 1 if loss > self.best_loss_ - tol else 0
                self.best_loss_ = min(self.best_loss_, loss)
            if self.verbose:
                extra = f", validation score = {score:.6f}" if X_val is not None else ""
                print(f"Epoch {epoch + 1}/{self.epochs}, loss = {loss:.8f}{extra}")
            if stale >= self.n_iter_no_change:
                if self.verbose:
                    what = "Validation score" if X_val is not None else "Training loss"
                    print(f"{what} did not improve more than tol={tol} for {self.n_iter_no_change} "
                          "consecutive epochs. Stopping.")
                break
        else:
            warnings.warn(f"{type(self).__name__}: reached epochs={self.epochs} and the optimization has not "
                          "converged yet.", ConvergenceWarning, stacklevel=3)
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self.model_.eval()  # model_ is handed to users ready for inference
        return self

    def _split(self, X: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, ...]:
        n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
        if n_val < 1 or X.shape[0] - n_val < 1:
            raise ValueError(f"{type(self).__name__}: early_stopping needs at least 2 samples, got {X.shape[0]}")
        stratify = None
        if target.ndim == 1 and target.dtype.kind == "i":  # a classifier: keep every class on both sides
            counts = np.bincount(target)
            counts = counts[counts > 0]
            if counts.min() >= 2 and len(counts) <= min(n_val, X.shape[0] - n_val):
                stratify = target
        with self._own_rng() as rng:
            seed = int(rng.integers(np.iinfo(np.int32).max))
        return tuple(train_test_split(X, target, test_size=n_val, random_state=seed, stratify=stratify))

    def _partial_fit(self, X: Any, y: Any, classes: Any = None) -> _BaseNeuralNet:
        first = not hasattr(self, "model_")
        sizes = self._check_params() if first else ()
        X, y = self._validate_xy(X, y, reset=first)
        target = self._prepare_targets(y, first=first, classes=classes)
        if first:
            self._seed()
            self._initialize(X.shape[1], sizes)
        loss = self._run_epoch(X, target)
        self.model_.eval()
        if self.verbose:
            print(f"Epoch {self.n_iter_}, loss = {loss:.8f}")
        return self


_PARAMS_DOC = """
    Args:
        hidden_layer_sizes: widths of the hidden layers, e.g. ``(64, 32)`` (an int means one layer).
        activation: hidden activation, any name :func:`myelin.nn.MLP` accepts (``'relu'``, ``'tanh'``,
            ``'sigmoid'``, ``'gelu'``, ``'identity'``, ...).
        optimizer: ``'adam'``, ``'adamw'``, ``'sgd'``, ``'rmsprop'`` or ``'adagrad'`` (``myelin.optim``).
        learning_rate: the optimizer's learning rate (scikit-learn's ``learning_rate_init``).
        epochs: the maximum number of passes over the data (scikit-learn's ``max_iter``; ``fit`` may
            stop earlier, see ``n_iter_no_change``). ``partial_fit`` always makes one pass.
        batch_size: samples per optimizer step; ``'auto'`` is ``min(200, n_samples)`` as in scikit-learn.
        momentum: SGD momentum (used with ``optimizer='sgd'`` only).
        dropout: dropout probability after each hidden activation (training only).
        l1, l2: penalties ``l1 * sum|W| + l2 * sum W**2`` over the weight matrices (not the biases),
            added to the mean batch loss (scikit-learn's ``alpha`` is ``2 * l2 * batch_size``).
        early_stopping: hold out ``validation_fraction`` of the training data (stratified for the
            classifier) and stop when its score (accuracy / R^2) has not improved by ``tol`` for
            ``n_iter_no_change`` epochs; the best weights are restored. Otherwise ``fit`` stops when the
            training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
        validation_fraction: the held-out fraction for ``early_stopping``.
        n_iter_no_change: epochs without improvement before stopping.
        tol: the improvement that counts.
        shuffle: reshuffle the samples every epoch.
        random_state: seeds initialisation, dropout, shuffling and the validation split (an int makes
            ``fit`` reproducible); None draws a seed from :func:`myelin.random.get_rng`.
        verbose: print the loss after every epoch when non-zero.
"""

_ATTRS_DOC = """
    Attributes:
        model_: the trained :class:`myelin.nn.MLP` (float32; save it with ``myelin.save``).
        n_features_in_, feature_names_in_: as in scikit-learn (names only for DataFrame input).
        loss_curve_: the mean training loss (plus penalty) of every epoch run so far.
        n_iter_: the number of epochs run (``fit`` restarts it; ``partial_fit`` adds one).
        best_loss_: the lowest training loss (without ``early_stopping``).
        validation_scores_, best_validation_score_: the held-out scores (with ``early_stopping``).
"""


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """A multi-layer perceptron classifier trained with Myelin (softmax cross-entropy on the logits).

    Binary and multiclass targets of any label type (ints, strings...); ``classes_`` holds the sorted
    labels and ``predict_proba`` columns follow it. Binary problems use two output logits.
    """

    __doc__ = (__doc__ or "") + _PARAMS_DOC + _ATTRS_DOC + "        classes_: the class labels.\n"

    def _validate_xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float32)
        check_classification_targets(y)
        return X, y

    def _prepare_targets(self, y: np.ndarray, first: bool, classes: Any = None) -> np.ndarray:
        if first:
            if classes is None:
                classes = y
            self.classes_ = np.unique(np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"{type(self).__name__}.partial_fit: classes={classes!r} differ from the "
                             f"classes of the first call, {self.classes_!r}")
        codes = np.searchsorted(self.classes_, y)
        codes = np.minimum(codes, len(self.classes_) - 1)
        unseen = self.classes_[codes] != y
        if np.any(unseen):
            raise ValueError(f"{type(self).__name__}: y contains labels not in classes_ {self.classes_!r}: "
                             f"{np.unique(y[unseen])!r}")
        return codes.astype(np.int64)

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _loss(self, output: Any, target: np.ndarray) -> Any:
        return F.cross_entropy(output, target)

    def _validation_score(self, X: np.ndarray, target: np.ndarray) -> float:
        return float(np.mean(self._outputs(X).argmax(axis=1) == target))

    def fit(self, X: Any, y: Any) -> NeuralNetClassifier:
        """Train a new network on ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)``."""
        return self._fit(X, y)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> NeuralNetClassifier:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state.

        ``classes`` (every label that will ever appear) is required on the first call, as in
        scikit-learn, since a batch need not contain every class.
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(f"{type(self).__name__}.partial_fit: classes must be passed on the first call")
        return self._partial_fit(X, y, classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)`` in float64, columns ordered as ``classes_``."""
        z = self._forward(X)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log class probabilities ``(n_samples, n_classes)`` (a numerically stable log-softmax)."""
        z = self._forward(X)
        z -= z.max(axis=1, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
        return z

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class label of each row of ``X``."""
        codes = self._forward(X).argmax(axis=1)  # checks fitted-ness before classes_ is read
        return self.classes_[codes]


class NeuralNetRegressor(RegressorMixin, _BaseNeuralNet):
    """A multi-layer perceptron regressor trained with Myelin (mean squared error, linear output).

    ``y`` may be ``(n_samples,)`` or ``(n_samples, n_outputs)``; ``predict`` returns the same shape
    (1-D for 1-D ``y``) in float64. Scale the targets (e.g. ``TransformedTargetRegressor``) when
    they are far from unit size.
    """

    __doc__ = (__doc__ or "") + _PARAMS_DOC + _ATTRS_DOC + "        n_outputs_: the number of targets.\n"

    def _validate_xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(self, X, y, reset=reset, dtype=np.float32, multi_output=True, y_numeric=True)

    def _prepare_targets(self, y: np.ndarray, first: bool, classes: Any = None) -> np.ndarray:
        target = np.asarray(y, dtype=np.float32)
        target = target.reshape(-1, 1) if target.ndim == 1 else target
        if first:
            self.n_outputs_ = target.shape[1]
            self._y_1d = y.ndim == 1
        elif target.shape[1] != self.n_outputs_:
            raise ValueError(f"{type(self).__name__}.partial_fit: y has {counted(target.shape[1], 'output')}, "
                             f"the model was fitted with {self.n_outputs_}")
        return target

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _loss(self, output: Any, target: np.ndarray) -> Any:
        return F.mse_loss(output, target)

    def _validation_score(self, X: np.ndarray, target: np.ndarray) -> float:
        return float(r2_score(target, self._outputs(X)))

    def fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """Train a new network on ``X`` ``(n_samples, n_features)`` and targets ``y``."""
        return self._fit(X, y)

    def partial_fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state."""
        return self._partial_fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n_samples,)`` for 1-D training targets, else ``(n_samples, n_outputs)``."""
        out = self._forward(X)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
