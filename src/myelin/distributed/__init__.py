"""Data-parallel training over MPI (``myelin.distributed``), on mpi4py: the optional extra ``[mpi]``.

Every rank (process) holds a full copy of the model, trains on its own shard of every global batch,
and the gradients are averaged across ranks after ``backward()`` with one ``Allreduce`` on one flat
buffer per step, so all ranks take the same optimizer step and keep identical weights::

    import myelin
    from myelin import distributed as dist, nn, optim
    from myelin.data import DataLoader, TensorDataset

    dist.init()                                        # a no-op communicator without mpirun
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    dist.broadcast_parameters(model)                   # rank 0's initial weights and buffers everywhere
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1, momentum=0.9), model)
    loader = dist.shard_loader(DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, seed=0))
    for epoch in range(5):
        for xb, yb in loader:                          # 128 / world_size samples per rank
            opt.zero_grad()
            myelin.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()                                 # averages gradients, then updates
    if dist.is_main():
        myelin.save(model, "model.safetensors")

Run with ``mpirun -n 2 python train.py`` (see docs/distributed.md for clusters). With a mean-reduced
loss and equal shards, the averaged gradient equals the gradient of the whole global batch, so N ranks
given ``B / N`` samples each follow the same trajectory as one process given ``B`` (to float rounding).

Without mpi4py, or in a process not started by an MPI launcher, everything works with one rank
(``world_size() == 1``) and the collectives return their inputs. Asking for MPI explicitly
(``init(required=True)``, ``fit(..., distributed=True)``) without mpi4py or an MPI runtime raises
:class:`DistributedError` saying how to install them.

BatchNorm: running statistics stay LOCAL to each rank, as with PyTorch's default
``DistributedDataParallel`` (no SyncBatchNorm): in training mode each rank normalises with the mean
and variance of its own ``B / N`` samples, and each rank's ``running_mean`` / ``running_var`` follow
its own shard. The weights (``weight``, ``bias``) are averaged like every other parameter. The model that
rank 0 saves carries rank 0's running statistics. Small per-rank batches make the batch statistics
noisier; so the N-rank run is NOT identical to a single process for models with BatchNorm.

Only rank 0 should write checkpoints, logs, progress bars and reports: test :func:`is_main`, or
decorate a writer with :func:`main_only`.
"""

from .comm import (
    INSTALL_HINT,
    Communicator,
    DistributedError,
    LocalCommunicator,
    MPICommunicator,
    all_ranks,
    allreduce_sum,
    any_rank,
    barrier,
    broadcast_object,
    get_communicator,
    init,
    is_initialized,
    is_main,
    launched_world_size,
    main_only,
    rank,
    reduce_metrics,
    world_size,
)
from .reducer import DistributedOptimizer, GradientReducer, allreduce_gradients
from .sharding import shard_loader, shared_seed
from .state import broadcast_parameters, broadcast_state, check_consistency, sync_training_state

__all__ = [
    "INSTALL_HINT",
    "Communicator",
    "DistributedError",
    "DistributedOptimizer",
    "GradientReducer",
    "LocalCommunicator",
    "MPICommunicator",
    "all_ranks",
    "allreduce_gradients",
    "allreduce_sum",
    "any_rank",
    "barrier",
    "broadcast_object",
    "broadcast_parameters",
    "broadcast_state",
    "check_consistency",
    "get_communicator",
    "init",
    "is_initialized",
    "is_main",
    "launched_world_size",
    "main_only",
    "rank",
    "reduce_metrics",
    "shard_loader",
    "shared_seed",
    "sync_training_state",
    "world_size",
]
