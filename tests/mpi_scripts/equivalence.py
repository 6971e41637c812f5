"""N ranks given B/N samples of every global batch end where one process given all B samples ends.

Run: ``mpirun -n 2 python tests/mpi_scripts/equivalence.py``; rank 0 prints one ``RESULT {json}`` line
per case (the pytest side asserts on them).
"""

from __future__ import annotations

import numpy as np
from _common import SEED, gather_weights, make_data, make_model, make_optimizer, report, train

import myelin
from myelin import distributed as dist
from myelin.data import DataLoader
from myelin.nn import functional as F

GLOBAL_BATCH = 16
EPOCHS = 3


def equivalence(kind: str, opt_name: str) -> None:
    comm = dist.init(required=True)
    data = make_data(kind)
    myelin.manual_seed(100 + comm.rank)  # different initial weights per rank: the broadcast must fix that
    model = make_model(kind)
    dist.broadcast_parameters(model)
    start = model.state_dict()
    opt = dist.DistributedOptimizer(make_optimizer(opt_name, model), model)
    loader = dist.shard_loader(DataLoader(data, batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED))
    train(model, opt, loader, range(EPOCHS))
    weights = gather_weights(model)
    if comm.rank != 0:
        return
    ref = make_model(kind)  # one process, whole global batches
    ref.load_state_dict(start)
    train(ref, make_optimizer(opt_name, ref), DataLoader(data, batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED),
          range(EPOCHS))
    expected = np.concatenate([p.data.ravel() for p in ref.parameters()])
    report(case=f"{kind}-{opt_name}", ranks=comm.size, per_rank_batch=loader.batch_size,
           steps=len(loader) * EPOCHS,
           max_abs_diff=float(np.max(np.abs(weights[0] - expected))),
           allclose=bool(np.allclose(weights[0], expected, rtol=1e-5, atol=1e-6)),
           ranks_identical=bool(all(np.array_equal(weights[0], w) for w in weights[1:])),
           moved=float(np.max(np.abs(expected - np.concatenate([v.ravel() for v in start.values()])))))


def batchnorm_stays_local() -> None:
    """Weights agree on every rank; BatchNorm running statistics follow each rank's own shard."""
    comm = dist.get_communicator()
    model = make_model("bn")
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(make_optimizer("sgd", model), model)
    loader = dist.shard_loader(DataLoader(make_data("mlp"), batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED))
    train(model, opt, loader, range(1))
    weights = gather_weights(model)
    mean = np.ascontiguousarray(model[1].running_mean)
    means = np.empty((comm.size, mean.size), mean.dtype) if comm.rank == 0 else None
    comm.mpi_comm.Gather(mean, means, root=0)
    if comm.rank == 0:
        report(case="batchnorm", ranks_identical=bool(all(np.array_equal(weights[0], w) for w in weights[1:])),
               running_mean_differs=bool(not np.allclose(means[0], means[1])))


def none_gradients() -> None:
    """grad None counts as zeros: a layer used on rank 0 only gets (g0 + 0) / N everywhere; unused stays None."""
    comm = dist.get_communicator()
    myelin.manual_seed(1)
    shared, only_rank0, unused = make_model("mlp"), make_model("mlp"), make_model("mlp")
    params = [*shared.parameters(), *only_rank0.parameters(), *unused.parameters()]
    dist.broadcast_parameters(params)
    x = myelin.tensor(np.full((4, 20), 0.5 + comm.rank, dtype=np.float32))
    y = myelin.tensor(np.arange(4) % 5)
    loss = F.cross_entropy(shared(x), y)
    if comm.rank == 0:
        loss = loss + F.cross_entropy(only_rank0(x), y)
    loss.backward()
    local = only_rank0[0].weight.grad.data.copy() if comm.rank == 0 else None
    reducer = dist.allreduce_gradients(params)
    grad = only_rank0[0].weight.grad
    expected = dist.broadcast_state(local) / comm.size
    report(case="none_grad", calls=reducer.calls,
           rank0_only_averaged=bool(grad is not None and np.allclose(grad, expected, rtol=1e-6, atol=1e-7)),
           unused_stays_none=all(p.grad is None for p in unused.parameters()))


if __name__ == "__main__":
    for kind, opt_name in (("mlp", "sgd"), ("mlp", "adam"), ("cnn", "sgd"), ("cnn", "adam")):
        equivalence(kind, opt_name)
    batchnorm_stays_local()
    none_gradients()
    dist.barrier()
