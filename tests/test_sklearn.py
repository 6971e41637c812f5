"""Tests for ``myelin.sklearn``: scikit-learn's estimator checks plus the behaviour sklearn users rely on."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import myelin
from myelin.sklearn import NeuralNetClassifier, NeuralNetRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Checks expected to fail, with the reason. None at present: every check of parametrize_with_checks
# (scikit-learn 1.9) passes for both estimators. scikit-learn itself skips, depending on the environment:
# check_array_api_input (skipped unless SCIPY_ARRAY_API=1) and the pandas half of
# check_classifier_data_not_an_array / check_regressor_data_not_an_array (skipped without pandas). With
# SCIPY_ARRAY_API=1 and pandas 3.1 installed, these pass too (checked by hand: 136 passed, 0 skipped).
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "NeuralNetClassifier": {},
    "NeuralNetRegressor": {},
}


def _expected_failed(estimator: object) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS[type(estimator).__name__]


# Tiny, fast models that still learn the checks' small data sets (blobs, iris, a regression).
_CHECK_KW = {"hidden_layer_sizes": (16,), "epochs": 20, "batch_size": 16, "learning_rate": 0.02, "n_iter_no_change": 100}


@parametrize_with_checks(
    [NeuralNetClassifier(**_CHECK_KW), NeuralNetRegressor(**_CHECK_KW)],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0)
    return X, y


# ------------------------------------------------------------------------------ integration


def test_pipeline_with_scaler(iris):
    X, y = load_iris(return_X_y=True)  # unscaled: the pipeline scales
    pipe = Pipeline([("scale", StandardScaler()),
                     ("clf", NeuralNetClassifier((16,), epochs=60, learning_rate=0.01, random_state=0))])
    assert pipe.fit(X, y).score(X, y) > 0.9
    assert pipe.predict_proba(X).shape == (150, 3)
    assert pipe.named_steps["clf"].n_features_in_ == 4


def test_grid_search_over_sizes_and_learning_rate(iris):
    X, y = iris
    grid = GridSearchCV(
        NeuralNetClassifier(epochs=30, random_state=0),
        {"hidden_layer_sizes": [(4,), (16,)], "learning_rate": [1e-4, 1e-2]},
        cv=3,
    )
    grid.fit(X, y)
    assert set(grid.cv_results_["params"][0]) == {"hidden_layer_sizes", "learning_rate"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    # 30 epochs at lr=1e-4 barely moves the weights; the search must notice
    assert grid.best_params_["learning_rate"] == 1e-2
    assert grid.best_score_ > 0.85


def test_cross_val_score_classifier_and_regressor(iris):
    X, y = iris
    scores = cross_val_score(NeuralNetClassifier((16,), epochs=40, learning_rate=0.01, random_state=0), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    Xr, yr = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
    yr = yr / yr.std()
    r2 = cross_val_score(NeuralNetRegressor((16,), epochs=60, learning_rate=0.01, random_state=0), Xr, yr, cv=3)
    assert r2.mean() > 0.8


def test_get_set_params_and_clone():
    clf = NeuralNetClassifier((8, 4), dropout=0.1, l2=1e-3)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (8, 4) and params["dropout"] == 0.1 and params["epochs"] == 200
    clf.set_params(learning_rate=0.5, epochs=3)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and copy is not clf


# ------------------------------------------------------------------------------ classifier behaviour


def test_predict_proba_rows_sum_to_one_and_match_predict(blobs):
    X, y = blobs
    clf = NeuralNetClassifier((16,), epochs=10, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)


def test_binary_string_labels(iris):
    X, y = iris
    keep = y < 2
    labels = np.where(y[keep] == 0, "setosa", "versicolor")
    clf = NeuralNetClassifier((8,), epochs=30, learning_rate=0.01, random_state=0).fit(X[keep], labels)
    assert list(clf.classes_) == ["setosa", "versicolor"]
    assert clf.predict_proba(X[keep]).shape == (int(keep.sum()), 2)
    assert set(clf.predict(X[keep])) <= {"setosa", "versicolor"}
    assert clf.score(X[keep], labels) > 0.95


def test_multiclass_string_labels(iris):
    X, y = iris
    names = np.array(["virginica", "setosa", "versicolor"], dtype=object)[y]
    clf = NeuralNetClassifier((16,), epochs=60, learning_rate=0.01, random_state=0).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.score(X, names) > 0.9


def test_partial_fit_improves_score_over_calls(blobs):
    X, y = blobs
    clf = NeuralNetClassifier((32,), batch_size=32, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:50], y[:50], classes=np.unique(y))
    first = clf.score(X, y)
    for _ in range(15):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 16 and len(clf.loss_curve_) == 16
    assert clf.score(X, y) > first + 0.1
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    with pytest.raises(ValueError, match="labels not in classes_"):
        clf.partial_fit(X[:5], np.array([7, 7, 7, 7, 7]))


def test_regressor_partial_fit_keeps_optimizer_state():
    X, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=1)
    y = y / y.std()
    reg = NeuralNetRegressor((16,), batch_size=20, learning_rate=0.01, random_state=0)
    losses = [reg.partial_fit(X, y).loss_curve_[-1] for _ in range(10)]
    assert losses[-1] < 0.5 * losses[0]
    assert reg._optimizer.state_dict()["state"][0]["step"] == 100  # 10 epochs x 10 batches, never reset


def test_early_stopping_stops_early_and_restores_best(blobs):
    X, y = blobs
    clf = NeuralNetClassifier((32,), epochs=500, learning_rate=0.01, early_stopping=True, n_iter_no_change=5,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it must stop before the epoch limit
        clf.fit(X, y)
    assert clf.n_iter_ < 500
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the weights kept are the best epoch's: n_iter_no_change epochs later did not beat it by tol
    assert clf.n_iter_ - 1 - int(np.argmax(clf.validation_scores_)) >= 5 - 1
    assert not hasattr(clf, "best_loss_")


def test_training_loss_stopping_rule():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    y = y / y.std()
    reg = NeuralNetRegressor((8,), epochs=1000, learning_rate=0.05, tol=1e-2, n_iter_no_change=3, random_state=0)
    reg.fit(X, y)
    assert reg.n_iter_ < 1000 and reg.best_loss_ == min(reg.loss_curve_)
    with pytest.warns(ConvergenceWarning, match="epochs=2"):
        NeuralNetRegressor((8,), epochs=2).fit(X, y)


# ------------------------------------------------------------------------------ regressor behaviour


def test_regressor_output_shapes():
    X, y = make_regression(n_samples=120, n_features=4, n_targets=3, random_state=0)
    y = y / y.std(axis=0)
    reg = NeuralNetRegressor((16,), epochs=30, learning_rate=0.01, random_state=0).fit(X, y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (120, 3) and reg.predict(X).dtype == np.float64
    assert reg.score(X, y) > 0.8
    one = NeuralNetRegressor((4,), epochs=2, random_state=0)
    assert one.fit(X, y[:, 0]).predict(X).shape == (120,)
    assert one.fit(X, y[:, :1]).predict(X).shape == (120, 1)


# ------------------------------------------------------------------------------ reproducibility, state


def test_random_state_makes_fit_reproducible(blobs):
    X, y = blobs
    kw = {"hidden_layer_sizes": (16,), "epochs": 5, "dropout": 0.2, "random_state": 3}
    a = NeuralNetClassifier(**kw).fit(X, y)
    b = NeuralNetClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    c = NeuralNetClassifier(**{**kw, "random_state": 4}).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    # refitting the same estimator starts again from the same seed
    np.testing.assert_array_equal(a.fit(X, y).predict_proba(X), b.predict_proba(X))


def test_fit_leaves_global_rng_alone_and_manual_seed_covers_none(blobs):
    X, y = blobs
    myelin.manual_seed(123)
    expected = myelin.get_rng().random(3)
    myelin.manual_seed(123)
    NeuralNetClassifier((4,), epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(myelin.get_rng().random(3), expected)
    fits = []
    for _ in range(2):  # random_state=None draws its seed from myelin's generator
        myelin.manual_seed(7)
        fits.append(NeuralNetClassifier((4,), epochs=2).fit(X, y).predict_proba(X))
    np.testing.assert_array_equal(*fits)


def test_fits_in_threads_match_sequential_fits(blobs):
    from concurrent.futures import ThreadPoolExecutor

    X, y = blobs
    make = [NeuralNetClassifier((8,), epochs=4, dropout=0.3, batch_size=16, random_state=s) for s in range(4)]
    sequential = [clone(m).fit(X, y).predict_proba(X) for m in make]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda m: m.fit(X, y).predict_proba(X), make))
    for a, b in zip(sequential, threaded):
        np.testing.assert_array_equal(a, b)


def test_pickle_round_trip(blobs):
    X, y = blobs
    clf = NeuralNetClassifier((8,), epochs=3, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    back.partial_fit(X, y)  # the optimizer still drives the unpickled model's parameters
    assert not np.array_equal(back.predict_proba(X), clf.predict_proba(X))


def test_float32_weights_and_dataframe_names(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = NeuralNetClassifier((8,), epochs=2, random_state=0).fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    assert all(p.data.dtype == np.float32 for p in clf.model_.parameters())


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("hidden_layer_sizes", (0,), "hidden_layer_sizes"),
        ("optimizer", "lbfgs", "optimizer"),
        ("activation", "nope", "activation"),
        ("epochs", 0, "epochs"),
        ("batch_size", "big", "batch_size"),
        ("learning_rate", -1.0, "learning_rate"),
        ("dropout", 1.0, "dropout"),
        ("l2", -0.1, "l2"),
        ("validation_fraction", 1.0, "validation_fraction"),
    ],
)
def test_bad_parameters_raise_in_fit(param, value, match):
    clf = NeuralNetClassifier(**{param: value})  # no validation in __init__ (sklearn's rule)
    with pytest.raises(ValueError, match=match):
        clf.fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_unfitted_and_wrong_width():
    with pytest.raises(NotFittedError):
        NeuralNetRegressor().predict(np.zeros((2, 3)))
    reg = NeuralNetRegressor((4,), epochs=1).fit(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="3 features"):
        reg.predict(np.zeros((2, 4)))


def test_divergence_is_reported():
    X = np.random.default_rng(0).normal(size=(64, 3)) * 1e6
    reg = NeuralNetRegressor((8,), optimizer="sgd", learning_rate=10.0, epochs=50, random_state=0)
    with pytest.raises(ValueError, match="learning_rate"):
        reg.fit(X, X.sum(axis=1) * 1e6)


def test_missing_scikit_learn_gives_an_actionable_import_error():
    import subprocess
    import sys

    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import myelin.sklearn\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install ".[sklearn]" in a checkout' in out and 'pip install "myelin-nn[sklearn]"' in out
