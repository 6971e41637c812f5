"""myelin.data: TensorDataset, Subset, random_split, DataLoader, transforms."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin.data import (
    Compose,
    DataLoader,
    Dataset,
    Standardize,
    Subset,
    TensorDataset,
    default_collate,
    one_hot,
    random_split,
    scale,
    standardize,
)


def _xy(n: int = 10, f: int = 3):
    x = np.arange(n * f, dtype=np.float32).reshape(n, f)
    y = np.arange(n, dtype=np.int64)
    return x, y


def _labels(loader) -> list[int]:
    """Concatenated label column of one epoch (the labels are the sample indices)."""
    return [int(v) for (*_, yb) in loader for v in yb.data]


class _Squares(Dataset):
    """A non-array data set: item i is (float32 array [i, i*i], int i)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], dtype=np.float32), i


# ----------------------------------------------------------------------------- datasets


def test_tensor_dataset_items_and_arrays():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi, x[3])
    assert yi == 3
    assert ds.arrays[0] is x  # no copy


def test_tensor_dataset_accepts_myelin_tensors():
    x, y = _xy()
    ds = TensorDataset(myelin.tensor(x), myelin.tensor(y))
    assert all(isinstance(a, np.ndarray) for a in ds.arrays)
    np.testing.assert_array_equal(ds.arrays[0], x)


def test_tensor_dataset_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match=r"10.*7"):
        TensorDataset(np.zeros((10, 2)), np.zeros(7))
    with pytest.raises(ValueError):
        TensorDataset()


def test_subset_and_bounds():
    x, y = _xy()
    sub = Subset(TensorDataset(x, y), [7, 2, 5])
    assert len(sub) == 3
    assert sub[0][1] == 7 and sub[2][1] == 5
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        Subset(TensorDataset(x, y), [1, 10])


def test_random_split_ints_and_fractions():
    ds = TensorDataset(*_xy(10))
    a, b = random_split(ds, [7, 3], seed=1)
    assert (len(a), len(b)) == (7, 3)
    assert sorted(np.concatenate([a.indices, b.indices]).tolist()) == list(range(10))
    a2, _ = random_split(ds, [7, 3], seed=1)
    np.testing.assert_array_equal(a.indices, a2.indices)
    parts = random_split(ds, [0.5, 0.3, 0.2], seed=0)
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(TensorDataset(*_xy(11)), [0.5, 0.5], seed=0)
    assert [len(p) for p in parts] == [6, 5]  # remainder goes to the first part
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="fractions summing to 1"):
        random_split(ds, [0.5, 0.2])


def test_random_split_without_seed_uses_global_generator():
    ds = TensorDataset(*_xy(20))
    myelin.manual_seed(3)
    first = random_split(ds, [10, 10])[0].indices
    myelin.manual_seed(3)
    again = random_split(ds, [10, 10])[0].indices
    np.testing.assert_array_equal(first, again)


# ----------------------------------------------------------------------------- loader


def test_loader_batches_shapes_dtypes_and_len():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    xb, yb = batches[0]
    assert isinstance(xb, myelin.Tensor) and isinstance(yb, myelin.Tensor)
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.data, x[:4])
    assert _labels(loader) == list(range(10))


def test_loader_converts_dtypes():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    y = np.arange(6, dtype=np.uint8)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=6)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(yb.data, np.arange(6))


def test_loader_batch_does_not_alias_dataset():
    x, y = _xy(4)
    xb, _ = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    xb.data[:] = -1
    assert x.min() == 0


def test_drop_last():
    ds = TensorDataset(*_xy(10))
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[0].shape[0] for b in loader] == [4, 4]
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 2


def test_shuffle_is_a_function_of_seed_and_epoch():
    ds = TensorDataset(*_xy(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=7)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=7)
    epoch0, epoch1 = _labels(a), _labels(a)
    assert epoch0 != epoch1  # the epoch counter advanced
    assert _labels(b) == epoch0 and _labels(b) == epoch1
    assert a.epoch == 2
    a.set_epoch(1)
    assert _labels(a) == epoch1
    assert list(a.indices(0)) == epoch0
    assert _labels(DataLoader(ds, batch_size=8, shuffle=True, seed=8)) != epoch0
    assert epoch0 != list(range(50))


def test_every_sample_exactly_once_per_epoch():
    ds = TensorDataset(*_xy(37))
    loader = DataLoader(ds, batch_size=5, shuffle=True, seed=0)
    for _ in range(3):
        assert sorted(_labels(loader)) == list(range(37))


def test_unseeded_shuffle_follows_manual_seed():
    ds = TensorDataset(*_xy(30))
    myelin.manual_seed(11)
    first = _labels(DataLoader(ds, batch_size=4, shuffle=True))
    myelin.manual_seed(11)
    again = _labels(DataLoader(ds, batch_size=4, shuffle=True))
    assert first == again and sorted(first) == list(range(30))


@pytest.mark.parametrize("n, replicas", [(12, 3), (10, 3), (2, 4)])
def test_rank_splits_are_disjoint_equal_and_cover(n, replicas):
    ds = TensorDataset(*_xy(n))
    per_rank = []
    for rank in range(replicas):
        loader = DataLoader(ds, batch_size=2, shuffle=True, seed=5, num_replicas=replicas, rank=rank)
        loader.set_epoch(3)
        per_rank.append(_labels(loader))
    size = -(-n // replicas)
    assert all(len(r) == size for r in per_rank)
    flat = [v for r in per_rank for v in r]
    assert set(flat) == set(range(n))
    if n % replicas == 0:
        assert len(set(flat)) == len(flat)  # disjoint
    else:
        assert len(flat) - len(set(flat)) == size * replicas - n  # only the wrap-around padding repeats
    full = DataLoader(ds, shuffle=True, seed=5).indices(3)
    np.testing.assert_array_equal(per_rank[0], np.resize(full, size * replicas)[0::replicas])


def test_subset_fast_path_matches_items():
    x, y = _xy(20)
    sub = Subset(Subset(TensorDataset(x, y), np.arange(20)[::-1]), [0, 5, 9, 2])
    xb, yb = next(iter(DataLoader(sub, batch_size=4)))
    assert yb.data.tolist() == [19, 14, 10, 17]
    np.testing.assert_array_equal(xb.data, x[[19, 14, 10, 17]])


def test_generic_collate_path():
    loader = DataLoader(_Squares(7), batch_size=3, shuffle=True, seed=2)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    xb, yb = batches[0]
    assert xb.shape == (3, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.data[:, 1], yb.data.astype(np.float32) ** 2)
    assert sorted(v for _, b in batches for v in b.data.tolist()) == list(range(7))


def test_custom_collate_fn_receives_samples():
    seen = []
    loader = DataLoader(TensorDataset(*_xy(5)), batch_size=2, collate_fn=lambda s: seen.append(len(s)) or len(s))
    assert list(loader) == [2, 2, 1] and seen == [2, 2, 1]


def test_default_collate_structures():
    out = default_collate([{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}])
    assert out["b"] == ["x", "y"] and out["a"].dtype == np.float32
    with pytest.raises(ValueError, match="equal shape"):
        default_collate([np.zeros(2), np.zeros(3)])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"seed": -1}, "seed"),
        ({"num_replicas": 2, "rank": 2}, "rank"),
        ({"num_replicas": 2, "shuffle": True}, "seed"),
        ({"collate_fn": 3}, "collate_fn"),
    ],
)
def test_loader_validates_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(TensorDataset(*_xy()), **kwargs)


def test_loader_rejects_non_dataset():
    with pytest.raises(ValueError, match="__len__"):
        DataLoader(42)


# ----------------------------------------------------------------------------- transforms


def test_standardize_function_and_class():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((200, 3)) * [1.0, 5.0, 0.0] + [2.0, -1.0, 4.0]).astype(np.float32)
    z = standardize(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :2].std(0), 1, atol=1e-4)
    assert np.all(np.isfinite(z)) and np.all(z[:, 2] == 0)  # constant feature: eps guard
    s = Standardize().fit(x)
    np.testing.assert_allclose(s.transform(x), z, atol=1e-6)
    np.testing.assert_allclose(s.inverse_transform(s.transform(x))[:, :2], x[:, :2], atol=1e-4)
    np.testing.assert_allclose(standardize(x, s.mean_, s.std_), z, atol=1e-6)
    with pytest.raises(RuntimeError, match="fit"):
        Standardize().transform(x)


def test_standardize_per_channel():
    x = np.random.default_rng(1).random((8, 3, 4, 4)).astype(np.float32)
    z = Standardize(axis=(0, 2, 3)).fit_transform(x)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)


def test_scale():
    x = np.array([[0.0, 10.0, 3.0], [5.0, 20.0, 3.0]], dtype=np.float32)
    out = scale(x, -1, 1)
    np.testing.assert_allclose(out, [[-1, -1, -1], [1, 1, -1]])
    with pytest.raises(ValueError, match="low < high"):
        scale(x, 1, 1)


def test_one_hot():
    out = one_hot(np.array([2, 0, 1]), 4)
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[2, 0, 1]])
    assert out.dtype == np.float32
    assert one_hot(np.array([[1], [0]])).shape == (2, 1, 2)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot(np.array([-1, 2]), 3)
    with pytest.raises(ValueError, match="integer"):
        one_hot(np.array([0.5]), 3)


def test_compose():
    f = Compose([lambda v: v + 1, lambda v: v * 10])
    assert f(1) == 20
    with pytest.raises(TypeError):
        Compose([1])
