"""Data-parallel training of the SASRec sequential model on Ray: local by default, a cluster
by address.

`fit_sasrec_data_parallel(sequences, n_items, config, workers=N, address=...)` starts N Ray
actors (one CPU, one torch thread each) that join one torch.distributed gloo group and run the
same `SASRec.fit` loop with a `TorchDistributedSync`: each trains on its share of every
epoch's batches, gradients are all-reduced after every backward pass, validation NDCG and the
stopping decision are global. The weights therefore stay identical on every worker; the
driver checks that (a SHA-256 of each worker's final state) and returns rank 0's model.
The single-process `SASRec.fit` stays the default everywhere; this is used only when asked for
(`shopsense train --ray-workers N`).
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from shopsense.models.parallel import TorchDistributedSync
from shopsense.models.sasrec import SASRec, SASRecConfig, SASRecNet, titled_config
from shopsense.scale.ray_embed import start_ray


def state_digest(module: torch.nn.Module) -> str:
    """SHA-256 over every tensor of the state dict, in key order (bit-exact comparison)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class _TrainWorker:
    """One rank: a torch thread, a gloo process group, the shared training loop."""

    def __init__(self) -> None:
        os.environ["OMP_NUM_THREADS"] = "1"
        torch.set_num_threads(1)

    def rendezvous(self) -> str:
        """tcp://<this node's address>:<a free port> for rank 0 to host the group on."""
        import ray

        host = ray.util.get_node_ip_address()
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        return f"tcp://{host}:{port}"

    def fit(self, init_method: str, rank: int, world_size: int,
            sequences: Sequence[np.ndarray], n_items: int, config: SASRecConfig,
            valid: tuple[Sequence[np.ndarray], np.ndarray] | None,
            item_init: np.ndarray | None) -> dict[str, Any]:
        import torch.distributed as dist

        dist.init_process_group("gloo", init_method=init_method, rank=rank,
                                world_size=world_size)
        try:
            model = SASRec(config).fit(sequences, n_items, valid=valid, item_init=item_init,
                                       sync=TorchDistributedSync())
        finally:
            dist.destroy_process_group()
        net = model._require()
        out: dict[str, Any] = {"rank": rank, "digest": state_digest(net),
                               "history": model.history_, "best_epoch": model.best_epoch_,
                               "info": model.info_}
        if rank == 0:
            out["state"] = {k: v.numpy().copy() for k, v in net.state_dict().items()}
        return out


def fit_sasrec_data_parallel(sequences: Sequence[np.ndarray], n_items: int,
                             config: SASRecConfig | None = None, *,
                             valid: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
                             item_init: np.ndarray | None = None,
                             on_epoch: Callable[[dict[str, float]], None] | None = None,
                             workers: int = 2, address: str = "") -> SASRec:
    """A fitted SASRec trained by `workers` data-parallel Ray actors (see the module doc).
    `on_epoch` receives rank 0's epoch rows after training. `info_` on the returned model
    holds every worker's weight digest."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    config = config or SASRecConfig()
    if config.threads != 1:
        raise ValueError(f"data-parallel workers run one torch thread each; "
                         f"config.threads is {config.threads}")
    ray = start_ray(address, num_cpus=workers)
    actor_class = ray.remote(num_cpus=1)(_TrainWorker)
    actors = [actor_class.remote() for _ in range(workers)]
    try:
        init_method = ray.get(actors[0].rendezvous.remote())
        shared = [ray.put(x) for x in (sequences, valid, item_init)]
        results = ray.get([actor.fit.remote(init_method, rank, workers, shared[0], n_items,
                                            config, shared[1], shared[2])
                           for rank, actor in enumerate(actors)])
    finally:
        for actor in actors:
            ray.kill(actor)
    digests = [r["digest"] for r in sorted(results, key=lambda r: r["rank"])]
    if len(set(digests)) != 1:
        raise RuntimeError(f"data-parallel workers ended with different weights: {digests}")
    lead = next(r for r in results if r["rank"] == 0)
    config = titled_config(config, item_init)  # as each worker's fit built its network
    model = SASRec(config)
    model.n_items_, model.best_epoch_, model.history_ = n_items, lead["best_epoch"], \
        lead["history"]
    model.net_ = SASRecNet(n_items, config)
    model.net_.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in
                                lead["state"].items()})  # Ray hands back read-only arrays
    model.net_.eval()
    model.info_ = {**lead["info"], "workers": workers, "digests": digests}
    for row in model.history_ if on_epoch is not None else ():
        on_epoch(row)
    return model


__all__ = ["fit_sasrec_data_parallel", "state_digest"]
