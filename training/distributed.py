"""Process-group set-up for torchrun (one or many machines; NCCL on GPUs, gloo on CPU) and the
batches each rank takes.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; without them the run is a
single process. Global optimizer step s uses samples [s*B*W, (s+1)*B*W) of the epoch (B sequences
per rank, W ranks); rank r takes [s*B*W + r*B, s*B*W + (r+1)*B). Samples are drawn by index
(training.data.dataset), so a run with W ranks of B sees exactly the samples of one process with
W*B, and a resumed run continues with the very next ones.
"""
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run: rank, world size, local rank and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """True on rank 0 (the rank that logs, writes checkpoints and exports)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when the run has more than one process."""
        return self.world_size > 1


def setup(device: str = "auto") -> DistInfo:
    """Join the process group when launched by torchrun; pick this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("run.device asks for CUDA but no GPU is visible")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistInfo(rank, world, local, dev)


def teardown():
    """Leave the process group, if one was joined (no-op for a single process)."""
    if dist.is_initialized():
        dist.destroy_process_group()


class RankBatches:
    """Batches of sample indices of one rank for one epoch, from step ``start`` (module doc)."""

    def __init__(self, samples_per_epoch: int, batch_size: int, info: DistInfo, start: int = 0):
        self.batch, self.info, self.start = batch_size, info, start
        self.steps = samples_per_epoch // (batch_size * info.world_size)
        if self.steps == 0:
            raise ValueError(f"samples_per_epoch {samples_per_epoch} is less than one global batch "
                             f"({batch_size} x {info.world_size} ranks)")

    def __len__(self):
        return self.steps - self.start

    def __iter__(self):
        b, w, r = self.batch, self.info.world_size, self.info.rank
        for step in range(self.start, self.steps):
            first = step * b * w + r * b
            yield list(range(first, first + b))
