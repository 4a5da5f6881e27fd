"""How many CPU threads torch may use for a piece of work: lawbook's thread policy (issue 12).

Torch defaults to one thread per core. For the small tensors of most lawbook work (one network, a check, a report)
that is a loss: the threads synchronise at every operation, and as soon as another job runs on the machine they
wait for each other, so small work became 10-1000× slower under load (measured: a 24-24-24 network fell from 45k to
between 16 and 3,600 steps/s). The policy (measured, see `PARALLEL_FLOPS`):

- work below `PARALLEL_FLOPS` floating-point operations per step runs on one thread;
- larger work (a batch of thousands of networks) runs on torch's default, one thread per core;
- ``LAWBOOK_THREADS=N`` in the environment, or ``lawbook --threads N``, fixes N threads for everything.

`thread_policy` applies it to a block and restores torch's setting afterwards; `simulate.train` runs under it.
Measured by ``benchmarks/threads.py`` (both policies, idle and under a synthetic load it starts and stops itself).

>>> threads_for(1e3, env={})
1
>>> threads_for(1e3, env={"LAWBOOK_THREADS": "3"})
3
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch

__all__ = ["PARALLEL_FLOPS", "THREADS_ENV", "configured_threads", "thread_policy", "threads_for"]

THREADS_ENV = "LAWBOOK_THREADS"
# Below this many flops per step one thread is used. Measured on 2 cores with benchmarks/threads.py (8-16-8 linear
# networks on 64 items, ≈ 9.8e4 flops per network a step; network·steps/s, torch default → one thread):
#   idle:    B = 1: 4.3e4 → 4.2e4;  B = 100: 9.7e5 → 8.5e5;  B = 1,000: 1.9e6 → 1.0e6;  24-24-24 alone: 2.6e4 → 3.8e4
#   loaded (two spinning processes): B = 1: 2.1e4 → 2.8e4;  B = 100: 1.2e5 → 6.2e5;  B = 1,000: 2.8e5 → 7.0e5;
#            24-24-24 alone: 3.3e3 → 3.6e4
# One thread loses at most 1.8× when the machine is idle (B = 1,000) and wins 2.5-11× when it is not, so batches up to
# ≈ 1,000 such networks (1e8 flops a step) run on one thread and larger ones on one thread per core.
PARALLEL_FLOPS = 1e8


def configured_threads(env: Mapping[str, str] | None = None) -> int | None:
    """The thread count fixed by ``LAWBOOK_THREADS`` (None when unset); a value that is not a positive integer
    raises ValueError naming the variable and the fix."""
    env = os.environ if env is None else env
    text = env.get(THREADS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{THREADS_ENV}={text!r} is not a positive integer; set it to e.g. 1, or unset it")
    return int(text)


def threads_for(flops_per_step: float, env: Mapping[str, str] | None = None, default: int | None = None) -> int:
    """Threads for work of ``flops_per_step`` floating-point operations per step under the policy (module docstring):
    large work gets ``default`` (torch's own count, which OMP_NUM_THREADS sets; one per core when not given)."""
    fixed = configured_threads(env)
    if fixed is not None:
        return fixed
    if flops_per_step < PARALLEL_FLOPS:
        return 1
    return max(1, default if default is not None else os.cpu_count() or 1)


@contextmanager
def thread_policy(flops_per_step: float) -> Iterator[int]:
    """Run the block with `threads_for` ``flops_per_step`` torch threads, restoring torch's count afterwards.

    >>> before = torch.get_num_threads()
    >>> with thread_policy(10.0) as n:
    ...     n == torch.get_num_threads()
    True
    >>> torch.get_num_threads() == before
    True
    """
    before = torch.get_num_threads()
    n = threads_for(flops_per_step, default=before)
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
