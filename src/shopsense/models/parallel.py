"""Data-parallel training hooks for the one SASRec training loop.

`fit(..., sync=...)` takes a `GradientSync`: which share of each epoch's batches this process
trains on, how gradients are averaged after every backward pass, and how per-epoch numbers
(loss, validation NDCG, CPU time) are combined so that every process takes the same
early-stopping decision. `LocalSync` (one process) changes nothing; `TorchDistributedSync`
does it with torch.distributed (gloo on CPU), whose process group the caller has initialised
(`scale/ray_train.py` starts one per Ray actor).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

import torch

T = TypeVar("T")


class GradientSync(Protocol):
    rank: int
    world_size: int

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's share of a list every process built identically."""
        ...

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None: ...

    def sum(self, values: Sequence[float]) -> list[float]: ...

    def max(self, value: float) -> float: ...

    def broadcast_parameters(self, module: torch.nn.Module) -> None: ...


class LocalSync:
    """One process: every batch, gradients as computed, numbers as they are."""

    rank, world_size = 0, 1

    def shard(self, items: Sequence[T]) -> list[T]:
        return list(items)

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        return None

    def sum(self, values: Sequence[float]) -> list[float]:
        return list(values)

    def max(self, value: float) -> float:
        return value

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        return None


class TorchDistributedSync:
    """torch.distributed all-reduce over an initialised process group (gloo on CPU).

    `shard` gives rank r the items r, r + world, ... of the first `world * (n // world)`, so
    every rank runs the same number of steps (the remainder, fewer than `world` batches, is
    left out of that epoch; the batch order is reshuffled every epoch)."""

    def __init__(self) -> None:
        import torch.distributed as dist

        if not dist.is_initialized():
            raise RuntimeError("torch.distributed process group is not initialised")
        self._dist = dist
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()

    def shard(self, items: Sequence[T]) -> list[T]:
        usable = len(items) // self.world_size * self.world_size
        return list(items[self.rank:usable:self.world_size])

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        params = list(parameters)
        for p in params:  # every rank must contribute the same flat layout
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in params]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])  # one all-reduce per step
        self._dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def sum(self, values: Sequence[float]) -> list[float]:
        tensor = torch.tensor(list(values), dtype=torch.float64)
        self._dist.all_reduce(tensor)
        return tensor.tolist()

    def max(self, value: float) -> float:
        tensor = torch.tensor([value], dtype=torch.float64)
        self._dist.all_reduce(tensor, op=self._dist.ReduceOp.MAX)
        return float(tensor.item())

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        """Rank 0's initial weights everywhere (they already agree when seeded alike)."""
        for tensor in module.state_dict().values():
            self._dist.broadcast(tensor, src=0)


__all__ = ["GradientSync", "LocalSync", "TorchDistributedSync"]


class _threads:
    """Context manager pinning torch intra-op threads."""

    def __init__(self, n: int) -> None:
        self.n, self.before = n, torch.get_num_threads()

    def __enter__(self) -> None:
        torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)
