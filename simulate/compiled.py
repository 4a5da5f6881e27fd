"""Compiled GD loops for small two-layer linear networks, one or many (issue 12, items 2 and 3).

`simulate.train` spends ≈ 16 µs a step on one 8-16-8 network, of which ≈ 0.8 µs is arithmetic: the rest is torch's
per-operation dispatch. Here the whole multi-step loop of plain full-batch GD on ``DeepLinear((Ni, Nh, No))`` is one
numba function: each network's weights stay in cache, the step is written out as loops, and nothing is dispatched
per step. It computes what the torch path computes — E = W2 W1 Σxx − Σyx, W1 ← W1 − η W2ᵀE, W2 ← W2 − η E W1ᵀ,
both gradients from the same weights, recording at the same steps — so trajectories agree to round-off (summation
order differs from BLAS; tested to 1e-12 relative after thousands of steps). Σxx = I exactly skips its product, which
is exact: x·1 + y·0 = x.

`train` takes this path by itself when it applies (plain GD, two-layer `DeepLinear` of at most `MAX_MULTIPLY_ADDS` a
step, CPU float64, numba importable, no loss-window watch); measured in ``benchmarks/simulate_throughput.py``.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["MAX_BATCH", "MAX_MULTIPLY_ADDS", "applies", "available", "gd_two_layer"]

# Up to `MAX_BATCH` networks the loop runs them one after another (≈ 9e5 network·steps/s for 8-16-8 on one core,
# measured); above, the batched loop runs chunks of `CHUNK` networks with the batch as the innermost, vectorised axis
# (≈ 1.4e6 on one core against torch's 1.0e6 at B = 1,000, measured). Both do the same arithmetic in the same order
# per network, so they agree bit for bit (tested). One kernel cannot serve both: the batched one on a single network
# runs at 6.9e4 steps/s for 8-16-8 against the one-network kernel's 8.0e5 (measured), and the one-network kernel on a
# batch of 1,000 at ≈ 7.8e5 network·steps/s against the batched one's 1.5e6.
MAX_BATCH = 64
# The loops are plain (no SIMD blocking beyond their contiguous inner rows), so they win only while the step is
# small. Measured for one network (benchmarks/simulate_throughput.py, 1 thread, 2,000 steps, steps/s compiled
# against torch): 8-16-8 6.6e5 against 3.8e4 (17.5×), 24-24-24 9.1e4 against 3.5e4 (2.6×); 50-64-50, the kernel
# called directly, 1.2e4 against torch's 2.0e4 (0.6×; 3.3e3 before the inner loops ran along contiguous rows).
# Multiply-adds per step No·Ni·(2Nh + Ni) + Nh·No·Ni: 3.6e3, 5.5e4 and 6.1e5; the compiled path is used up to
# `MAX_MULTIPLY_ADDS`, where it still wins.
MAX_MULTIPLY_ADDS = 6e4

_KERNEL = None
_BATCHED = None
# Networks per chunk of the batched loop: long enough for the vector units, short enough for the chunk's weights and
# temporaries to stay in L2 (measured at B = 1,000: chunks of 64-128 fastest).
CHUNK = 128


@functools.cache
def available() -> bool:
    """Whether numba can be imported (the compiled path is then used where it applies); asked once per process."""
    try:
        with _interrupt_after():  # importing numba loads LLVM, where a Ctrl-C can be lost as well
            import numba  # noqa: F401
    except Exception:  # an absent or broken numba: the torch path serves
        return False
    return True


@contextmanager
def _interrupt_after() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block and deliver it when the block ends.

    numba compiles a kernel on its first call (≈ 5 s), and a SIGINT that lands inside LLVM's code is reported as an
    "exception ignored" and lost: the run went on as if nothing had been pressed (seen in `lawbook report`). Native
    code cannot be interrupted anyway, so deferring the signal to the end of the call loses nothing."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous in (signal.SIG_IGN, None):
        yield  # only the main thread handles signals; an ignored Ctrl-C stays ignored
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        signal.raise_signal(signal.SIGINT)  # to the restored handler: Python's raises KeyboardInterrupt here


def applies(sizes: tuple[int, ...], batch: int) -> bool:
    """Whether the compiled loop is the faster one for ``batch`` networks of widths ``sizes`` (Ni, Nh, No).

    >>> applies((8, 16, 8), 1), applies((50, 64, 50), 1), applies((8, 16, 8), 1000), applies((3, 4, 4, 2), 1)
    (True, False, True, False)
    """
    if len(sizes) != 3 or batch < 1:
        return False
    n_in, hidden, n_out = sizes
    return n_out * n_in * (2 * hidden + n_in) + hidden * n_out * n_in <= MAX_MULTIPLY_ADDS


def _kernel() -> object:
    global _KERNEL
    if _KERNEL is None:
        from numba import njit

        @njit(cache=True)
        def loop(W1, W2, Sxx, Syx, identity, eta, n_steps, record_steps, rec1, rec2):
            # every inner loop runs along a contiguous row (an axpy), so it vectorises without reordering a sum:
            # each entry still accumulates its terms in the same order as the batched kernel (bit-identical,
            # tested). E W1ᵀ needs W1's columns as rows, so a transposed copy w1t is kept (copied after each step).
            batch, hidden, n_in = W1.shape
            n_out = W2.shape[1]
            A = np.empty((n_out, n_in))
            E = np.empty((n_out, n_in))
            G1 = np.empty((hidden, n_in))
            G2 = np.empty((n_out, hidden))
            w1t = np.empty((n_in, hidden))
            for b in range(batch):
                w1 = W1[b].copy()
                w2 = W2[b].copy()
                for m in range(hidden):
                    for i in range(n_in):
                        w1t[i, m] = w1[m, i]
                j = 0
                for k in range(n_steps + 1):
                    if k == record_steps[j]:
                        rec1[j, b] = w1
                        rec2[j, b] = w2
                        j += 1
                        if k == n_steps:
                            break
                    for o in range(n_out):  # A = W2 W1
                        for i in range(n_in):
                            A[o, i] = 0.0
                        for m in range(hidden):
                            c = w2[o, m]
                            for i in range(n_in):
                                A[o, i] += c * w1[m, i]
                    for o in range(n_out):  # E = A Σxx − Σyx
                        if identity:
                            for i in range(n_in):
                                E[o, i] = A[o, i] - Syx[o, i]
                        else:
                            for i in range(n_in):
                                E[o, i] = 0.0
                            for m in range(n_in):
                                c = A[o, m]
                                for i in range(n_in):
                                    E[o, i] += c * Sxx[m, i]
                            for i in range(n_in):
                                E[o, i] -= Syx[o, i]
                    for m in range(hidden):  # G1 = W2ᵀ E
                        for i in range(n_in):
                            G1[m, i] = 0.0
                        for o in range(n_out):
                            c = w2[o, m]
                            for i in range(n_in):
                                G1[m, i] += c * E[o, i]
                    for o in range(n_out):  # G2 = E W1ᵀ
                        for m in range(hidden):
                            G2[o, m] = 0.0
                        for i in range(n_in):
                            c = E[o, i]
                            for m in range(hidden):
                                G2[o, m] += c * w1t[i, m]
                    for m in range(hidden):
                        for i in range(n_in):
                            w1[m, i] -= eta * G1[m, i]
                            w1t[i, m] = w1[m, i]
                    for o in range(n_out):
                        for m in range(hidden):
                            w2[o, m] -= eta * G2[o, m]

        _KERNEL = loop
    return _KERNEL


def _batched_kernel() -> object:
    global _BATCHED
    if _BATCHED is None:
        from numba import njit

        # nogil: the chunks run on plain Python threads (`gd_two_layer`), not numba's threading layer, whose start-up
        # fixes the process's multiprocessing start method (and so broke a later `set_start_method`, e.g. mutmut's)
        @njit(cache=True, nogil=True)
        def loop(w1, w2, Sxx, Syx, identity, eta, n_steps, record_steps, rec1, rec2):
            # one chunk, batch innermost: w1 (Nh, Ni, n), w2 (No, Nh, n); every operation runs across the chunk's
            # networks, contiguous in memory, so it vectorises
            hidden, n_in, n = w1.shape
            n_out = w2.shape[0]
            A = np.empty((n_out, n_in, n))
            E = np.empty((n_out, n_in, n))
            G1 = np.empty((hidden, n_in, n))
            G2 = np.empty((n_out, hidden, n))
            j = 0
            for k in range(n_steps + 1):
                if k == record_steps[j]:
                    rec1[j] = w1
                    rec2[j] = w2
                    j += 1
                    if k == n_steps:
                        break
                for o in range(n_out):
                    for i in range(n_in):
                        for b in range(n):
                            A[o, i, b] = 0.0
                        for m in range(hidden):
                            for b in range(n):
                                A[o, i, b] += w2[o, m, b] * w1[m, i, b]
                for o in range(n_out):
                    for i in range(n_in):
                        if identity:
                            for b in range(n):
                                E[o, i, b] = A[o, i, b] - Syx[o, i]
                        else:
                            for b in range(n):
                                E[o, i, b] = 0.0
                            for m in range(n_in):
                                for b in range(n):
                                    E[o, i, b] += A[o, m, b] * Sxx[m, i]
                            for b in range(n):
                                E[o, i, b] -= Syx[o, i]
                for m in range(hidden):
                    for i in range(n_in):
                        for b in range(n):
                            G1[m, i, b] = 0.0
                        for o in range(n_out):
                            for b in range(n):
                                G1[m, i, b] += w2[o, m, b] * E[o, i, b]
                for o in range(n_out):
                    for m in range(hidden):
                        for b in range(n):
                            G2[o, m, b] = 0.0
                        for i in range(n_in):
                            for b in range(n):
                                G2[o, m, b] += E[o, i, b] * w1[m, i, b]
                for m in range(hidden):
                    for i in range(n_in):
                        for b in range(n):
                            w1[m, i, b] -= eta * G1[m, i, b]
                for o in range(n_out):
                    for m in range(hidden):
                        for b in range(n):
                            w2[o, m, b] -= eta * G2[o, m, b]

        _BATCHED = loop
    return _BATCHED


def gd_two_layer(
    W1: np.ndarray,
    W2: np.ndarray,
    sigma_xx: np.ndarray,
    sigma_yx: np.ndarray,
    eta: float,
    record_steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Plain GD on a batch of two-layer linear networks, W1 (B, Nh, Ni) and W2 (B, No, Nh), recorded at the
    increasing step numbers ``record_steps`` (the first may be 0); returns the records (len(steps), B, …).

    >>> W1, W2 = np.full((1, 1, 1), 0.1), np.full((1, 1, 1), 0.1)
    >>> r1, r2 = gd_two_layer(W1, W2, np.eye(1), np.array([[1.0]]), 0.1, np.array([0, 1]))
    >>> round(float(r1[1, 0, 0, 0]), 6)  # 0.1 − 0.1·0.1·(0.01 − 1)
    0.1099
    """
    W1 = np.ascontiguousarray(W1, dtype=np.float64)
    W2 = np.ascontiguousarray(W2, dtype=np.float64)
    sigma_xx = np.ascontiguousarray(sigma_xx, dtype=np.float64)
    sigma_yx = np.ascontiguousarray(sigma_yx, dtype=np.float64)
    steps = np.ascontiguousarray(record_steps, dtype=np.int64)
    batch, hidden, n_in = W1.shape
    n_out = W2.shape[1]
    if W2.shape != (batch, n_out, hidden) or sigma_xx.shape != (n_in, n_in) or sigma_yx.shape != (n_out, n_in):
        raise ValueError(
            f"shapes do not fit a two-layer network: W1 {W1.shape}, W2 {W2.shape}, Σxx {sigma_xx.shape}, "
            f"Σyx {sigma_yx.shape}"
        )
    if steps.ndim != 1 or steps.size == 0 or steps[0] < 0 or np.any(np.diff(steps) <= 0):
        raise ValueError("record_steps must be a non-empty increasing array of step numbers ≥ 0")
    identity = bool(np.array_equal(sigma_xx, np.eye(n_in)))
    if batch <= MAX_BATCH:
        rec1 = np.empty((steps.size, batch, hidden, n_in))
        rec2 = np.empty((steps.size, batch, n_out, hidden))
        with _interrupt_after():
            _kernel()(W1, W2, sigma_xx, sigma_yx, identity, float(eta), int(steps[-1]), steps, rec1, rec2)
        return rec1, rec2
    with _interrupt_after():
        kernel = _batched_kernel()
    chunks = [(b0, min(batch, b0 + CHUNK)) for b0 in range(0, batch, CHUNK)]
    rec1 = np.empty((steps.size, batch, hidden, n_in))
    rec2 = np.empty((steps.size, batch, n_out, hidden))

    def run(bounds: tuple[int, int]) -> None:
        b0, b1 = bounds
        w1 = np.ascontiguousarray(W1[b0:b1].transpose(1, 2, 0))
        w2 = np.ascontiguousarray(W2[b0:b1].transpose(1, 2, 0))
        r1 = np.empty((steps.size, hidden, n_in, b1 - b0))
        r2 = np.empty((steps.size, n_out, hidden, b1 - b0))
        kernel(w1, w2, sigma_xx, sigma_yx, identity, float(eta), int(steps[-1]), steps, r1, r2)
        rec1[:, b0:b1] = r1.transpose(0, 3, 1, 2)
        rec2[:, b0:b1] = r2.transpose(0, 3, 1, 2)

    threads = max(1, min(torch.get_num_threads(), len(chunks)))  # the thread policy's count (simulate.threads)
    with _interrupt_after():
        if threads == 1:
            for bounds in chunks:
                run(bounds)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(run, chunks))
    return rec1, rec2
