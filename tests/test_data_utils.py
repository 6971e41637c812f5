"""myelin.utils.data: PyTorch's names over myelin.data; samplers, batch samplers, worker processes."""

from __future__ import annotations

import time

import numpy as np
import pytest

import myelin
import myelin.utils.data as tud
from myelin.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)


class Squares(Dataset):
    """A data set whose __getitem__ does work (a short sleep stands for decoding)."""

    def __init__(self, n=24, delay=0.0):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay)
        return np.array([i, i * i], dtype=np.float32), i % 3


class WorkerIds(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = tud.get_worker_info()
        return np.array([i, -1 if info is None else info.id, myelin.rand(1).item() * 0])


def test_names_are_the_one_implementation():
    import myelin.data as md

    assert tud.DataLoader is md.DataLoader and tud.TensorDataset is md.TensorDataset
    from myelin.utils.data import DataLoader as DL  # noqa: F401 - the spelling PyTorch users write


def test_items_are_tensors_like_pytorch(torch):
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(myelin.tensor(x), myelin.tensor(y))
    xi, yi = ds[2]
    assert isinstance(xi, myelin.Tensor) and isinstance(yi, myelin.Tensor)
    txi, tyi = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))[2]
    assert xi.shape == tuple(txi.shape) and yi.shape == tuple(tyi.shape) and yi.item() == tyi.item()
    assert yi.dtype == myelin.long
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 2) and yb.dtype == myelin.long


def test_samplers():
    ds = Squares(10)
    assert list(SequentialSampler(ds)) == list(range(10))
    myelin.manual_seed(0)
    order = list(RandomSampler(ds))
    assert sorted(order) == list(range(10)) and order != list(range(10))
    g = myelin.Generator().manual_seed(1)
    assert len(list(RandomSampler(ds, replacement=True, num_samples=25, generator=g))) == 25
    assert len(list(RandomSampler(ds, num_samples=25))) == 25
    assert sorted(SubsetRandomSampler([7, 3, 5])) == [3, 5, 7]
    w = WeightedRandomSampler([0.0, 0.0, 1.0], num_samples=6)
    assert list(w) == [2] * 6 and len(w) == 6
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], num_samples=2, replacement=False)
    b = BatchSampler(SequentialSampler(ds), batch_size=4, drop_last=False)
    assert list(b) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(b) == 3
    assert len(BatchSampler(range(10), 4, True)) == 2


def test_loader_with_sampler_and_batch_sampler():
    ds = Squares(10)
    loader = DataLoader(ds, batch_size=3, sampler=SubsetRandomSampler([0, 2, 4, 6]))
    seen = sorted(int(v) for xb, _ in loader for v in xb[:, 0].tolist())
    assert seen == [0, 2, 4, 6] and len(loader) == 2
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, drop_last=True))
    assert [xb.shape[0] for xb, _ in loader] == [4, 4] and len(loader) == 2
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=[[0, 1]])


def test_loader_accepts_pytorch_keywords():
    ds = Squares(8)
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=0, pin_memory=True, drop_last=False,
                        generator=myelin.Generator().manual_seed(0), timeout=0, worker_init_fn=None)
    assert len(list(loader)) == 2
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 8 and isinstance(single[0][0], myelin.Tensor) and single[0][0].shape == (2,)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)


def test_generator_makes_the_order_reproducible():
    ds = Squares(12)

    def order(seed):
        g = myelin.Generator().manual_seed(seed)
        return [int(v) for xb, _ in DataLoader(ds, batch_size=5, shuffle=True, generator=g) for v in xb[:, 0].tolist()]

    assert order(3) == order(3) and order(3) != order(4)


@pytest.mark.parametrize("persistent", [False, True])
def test_workers_give_the_same_batches_in_the_same_order(persistent):
    ds = Squares(30)
    myelin.manual_seed(7)
    serial = [(xb.data.copy(), yb.data.copy()) for xb, yb in DataLoader(ds, batch_size=4, shuffle=True)]
    myelin.manual_seed(7)
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=persistent,
                        prefetch_factor=2)
    parallel = [(xb.data.copy(), yb.data.copy()) for xb, yb in loader]
    assert len(serial) == len(parallel) == 8
    for (a, b), (c, d) in zip(serial, parallel):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert len(list(loader)) == 8  # a second epoch (with or without persistent workers)


def test_batches_are_built_in_worker_processes():
    loader = DataLoader(WorkerIds(), batch_size=2, num_workers=2)
    ids = {int(v) for xb in loader for v in xb[:, 1].tolist()}
    assert ids <= {0, 1} and -1 not in ids
    serial = DataLoader(WorkerIds(), batch_size=2)
    assert {int(v) for xb in serial for v in xb[:, 1].tolist()} == {-1}


@pytest.mark.slow
def test_workers_overlap_slow_items():
    ds = Squares(32, delay=0.02)
    start = time.perf_counter()
    list(DataLoader(ds, batch_size=4))
    serial = time.perf_counter() - start
    start = time.perf_counter()
    list(DataLoader(ds, batch_size=4, num_workers=4))
    assert time.perf_counter() - start < serial


def test_worker_errors_reach_the_main_process():
    class Broken(Squares):
        def __getitem__(self, i):
            if i == 5:
                raise KeyError("sample 5 is broken")
            return super().__getitem__(i)

    with pytest.raises(KeyError, match="sample 5"):
        list(DataLoader(Broken(8), batch_size=2, num_workers=2))


def test_worker_init_fn_runs_in_each_worker():
    class Seen(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            import os

            return np.array([float(os.environ.get("MYELIN_TEST_WORKER", "-1"))])

    def init(worker_id):
        import os

        os.environ["MYELIN_TEST_WORKER"] = str(worker_id)

    values = {float(v) for xb in DataLoader(Seen(), batch_size=1, num_workers=2, worker_init_fn=init)
              for v in xb.data.ravel()}
    assert values <= {0.0, 1.0}


def test_concat_subset_split_and_iterable():
    a, b = Squares(3), Squares(4)
    both = ConcatDataset([a, b])
    assert len(both) == 7 and both[3][0].tolist() == [0.0, 0.0] and both[-1][0].tolist() == [3.0, 9.0]
    assert len(a + b) == 7
    with pytest.raises(IndexError):
        both[7]
    parts = random_split(Squares(10), [0.7, 0.3], generator=myelin.Generator().manual_seed(0))
    again = random_split(Squares(10), [7, 3], generator=myelin.Generator().manual_seed(0))
    assert isinstance(parts[0], Subset) and list(parts[0].indices) == list(again[0].indices)

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(np.arange(10, dtype=np.float32).reshape(5, 2))

    batches = list(DataLoader(Stream(), batch_size=2))
    assert [b.shape[0] for b in batches] == [2, 2, 1]
    with pytest.raises(TypeError, match="no length"):
        len(DataLoader(Stream()))
