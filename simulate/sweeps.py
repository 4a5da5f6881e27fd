"""Sweeps: a grid of configurations × seeds → one tidy table, batched, cached on disk, run serially, on a process
pool or on Dask (issue 13, item 1).

An `Experiment` says what one (configuration, seed) run measures and which runs can share one tensor program
(`Experiment.batch_key`); `sweep` does the rest:

- **units.** Runs are grouped by batch key, in the order of the grid, and cut into units of at most ``max_batch``
  runs. The units depend only on the grid, the seeds and ``max_batch``, never on the scheduler, so serial, pool and
  Dask runs compute the same units the same way and give identical tables (tested bit for bit).
- **cache.** Each run's rows are stored as ``<cache>/<key>.parquet`` (pyarrow; open them with `pandas.read_parquet`),
  the key a SHA-256 of the experiment's name and fields, the run's configuration and seed, and the code version
  (`code_version`: lawbook's version and the source of `simulate`, `theory` and the experiment's module). A unit is run
  again only if one of its runs is missing, so an interrupted sweep resumes at the unit it was in, a repeated one
  runs nothing, and a changed grid reuses every run it shares with the old one (runs computed in another unit can
  then differ from a fresh computation in the last bits, ≈ 1e-14: batched matmuls need not sum in the same order).
- **progress.** A tqdm bar over runs with its ETA (``progress=False`` turns it off).
- **schedulers.** ``"serial"``; ``"processes"``, a local process pool (spawned, ``workers`` processes); ``"dask"``,
  a `distributed.LocalCluster` of ``workers`` single-threaded processes; or a scheduler address ``"tcp://…"`` for a
  running Dask cluster, whose workers must have lawbook installed. Results come back to this process, which writes
  the cache, so workers need no shared disk.

>>> from simulate.sweeps import grid
>>> grid(width=[8, 16], gamma0=[0.1, 1.0])
[{'width': 8, 'gamma0': 0.1}, {'width': 8, 'gamma0': 1.0}, {'width': 16, 'gamma0': 0.1}, {'width': 16, 'gamma0': 1.0}]
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import itertools
import json
import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["SCHEDULERS", "Experiment", "code_version", "grid", "run_key", "sweep"]

SCHEDULERS = ("serial", "processes", "dask")
_SCALARS = (str, int, float, bool, type(None))


def grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, as configurations; the last axis varies fastest."""
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"axis {name!r} must be a list of values, got {values!r}")
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(list(axes[n]) for n in names))]


class Experiment(ABC):
    """What a sweep runs: subclass it as a frozen dataclass at module level (workers import it by name).

    Its fields are the settings shared by every run (they enter the cache key); a configuration is a dict of
    scalars naming what varies. `run` gets a unit of (configuration, seed) pairs that share a `batch_key` and
    returns one DataFrame per pair, in order; the sweep adds the configuration's columns and ``seed``.
    Each run's randomness must come from its own configuration and seed only (never from its place in the unit),
    so that a run's rows do not depend on which other runs shared its unit beyond round-off.
    """

    name: str = "experiment"

    def batch_key(self, config: Mapping[str, Any]) -> Hashable:
        """Runs with equal keys may share one tensor program; by default only the seeds of one configuration."""
        return tuple(sorted(config.items()))

    def require_positive_ints(self, *names: str) -> None:
        """Raise ValueError unless each named field is a Python int ≥ 1 (not a bool): an experiment's sizes."""
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def unit_config(self, items: Sequence[tuple[Mapping[str, Any], int]], axes: Sequence[str]) -> Mapping[str, Any]:
        """The one configuration that a unit's runs share (the default `batch_key` puts one configuration's seeds
        in a unit), checked to name every axis in ``axes``."""
        config = items[0][0]
        name = type(self).__name__
        if any(c != config for c, _ in items):
            raise ValueError(f"a unit of {name} holds one configuration's seeds (see batch_key)")
        missing = [axis for axis in axes if axis not in config]
        if missing:
            raise ValueError(f"the configuration lacks {missing}; {name} needs {tuple(axes)}")
        return config

    @abstractmethod
    def run(self, items: Sequence[tuple[Mapping[str, Any], int]]) -> list[pd.DataFrame]:
        """The rows of each (configuration, seed) of the unit, one DataFrame per item, in order."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True, default=repr)


def _source_digest(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_version(experiment: Experiment) -> str:
    """A digest of the code a run's numbers come from: lawbook's version, every module of `simulate` and `theory`
    (experiments use theory's closed forms, e.g. the minimum-norm learner), and the module that defines the
    experiment. Any edit there invalidates the cache (on purpose: a cached number must be what today's code
    computes)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("lawbook")
    except PackageNotFoundError:  # run from a source tree that is not installed
        own = "source"
    simulate_dir = Path(__file__).resolve().parent
    files = set(simulate_dir.glob("*.py"))
    import theory

    files |= set(Path(theory.__file__).resolve().parent.glob("*.py"))
    source = inspect.getsourcefile(type(experiment))
    if source is not None:
        files.add(Path(source).resolve())
    return f"{own}:{_source_digest(files)}"


def _fields(experiment: Experiment) -> dict[str, Any]:
    if not dataclasses.is_dataclass(experiment):
        raise TypeError(f"{type(experiment).__name__} must be a dataclass, so that its settings enter the cache key")
    return {f.name: getattr(experiment, f.name) for f in dataclasses.fields(experiment)}


def run_key(experiment: Experiment, config: Mapping[str, Any], seed: int, version: str | None = None) -> str:
    """The cache key of one run: SHA-256 of the experiment's name and fields, the configuration, the seed and the
    code version."""
    payload = {
        "experiment": experiment.name,
        "settings": _fields(experiment),
        "config": dict(config),
        "seed": seed,
        "code": version if version is not None else code_version(experiment),
    }
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def _check(experiment: Experiment, configs: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> None:
    if not isinstance(experiment, Experiment):
        raise TypeError(f"experiment must be a simulate.sweeps.Experiment, got {type(experiment).__name__}")
    _fields(experiment)
    if len(configs) == 0 or len(seeds) == 0:
        raise ValueError("a sweep needs at least one configuration and one seed")
    keys = set(configs[0])
    for config in configs:
        if not isinstance(config, Mapping):
            raise TypeError(f"each configuration must be a dict of scalars, got {config!r}")
        if set(config) != keys:
            raise ValueError(
                f"every configuration must name the same parameters (a tidy table has one column each): {sorted(keys)} "
                f"and {sorted(config)}; use grid(...) or fill the missing ones"
            )
        for name, value in config.items():
            if not isinstance(value, _SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
                raise TypeError(
                    f"configuration value {name} = {value!r} must be a finite scalar (str, int, float, bool)"
                )
        if "seed" in config:
            raise ValueError("'seed' is the sweep's own column; pass seeds separately (or name the axis task_seed)")
    if len({_canonical(c) for c in configs}) != len(configs):
        raise ValueError("the configurations repeat one another; each must appear once")
    if any(isinstance(s, bool) or not isinstance(s, int) for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers, got {list(seeds)!r}")


def _units(
    experiment: Experiment, configs: Sequence[Mapping[str, Any]], seeds: Sequence[int], max_batch: int
) -> list[list[int]]:
    """Indices into the (configuration, seed) list, grouped by batch key in grid order, cut at ``max_batch``."""
    groups: dict[Hashable, list[int]] = {}
    for i, config in enumerate(configs):
        key = experiment.batch_key(config)
        for j in range(len(seeds)):
            groups.setdefault(key, []).append(i * len(seeds) + j)
    return [members[k : k + max_batch] for members in groups.values() for k in range(0, len(members), max_batch)]


def _run_unit(experiment: Experiment, items: list[tuple[dict[str, Any], int]]) -> list[pd.DataFrame]:
    """One unit, wherever it runs (this process, a pool worker, a Dask worker)."""
    frames = experiment.run(items)
    if len(frames) != len(items) or not all(isinstance(f, pd.DataFrame) for f in frames):
        raise TypeError(f"{type(experiment).__name__}.run must return one DataFrame per (configuration, seed) item")
    return frames


def _write(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)  # atomic: an interrupted write never leaves a half file under the final name


def sweep(
    experiment: Experiment,
    configs: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    *,
    cache: str | Path | None = None,
    scheduler: str = "serial",
    workers: int | None = None,
    max_batch: int = 256,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``experiment`` for every configuration and seed; one row per (configuration, seed, recorded row of
    the run), the configuration's columns first, then ``seed``, then the experiment's columns (module docstring for
    units, cache and schedulers). ``table.attrs`` holds ``runs`` and ``runs_computed``: how many of them this call
    ran rather than read from the cache.
    """
    configs = [dict(c) for c in configs]
    seeds = list(seeds)
    _check(experiment, configs, seeds)
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise ValueError(f"max_batch must be an integer ≥ 1, got {max_batch!r}")
    if scheduler not in SCHEDULERS and not str(scheduler).startswith(("tcp://", "tls://", "inproc://")):
        raise ValueError(
            f"unknown scheduler {scheduler!r}; use one of {SCHEDULERS} or a Dask address 'tcp://host:port'"
        )
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer ≥ 1, got {workers!r}")
    items = [(config, seed) for config in configs for seed in seeds]
    units = _units(experiment, configs, seeds, max_batch)
    results: dict[int, pd.DataFrame] = {}
    paths: dict[int, Path] = {}
    if cache is not None:
        folder = Path(cache)
        folder.mkdir(parents=True, exist_ok=True)
        version = code_version(experiment)
        paths = {i: folder / f"{run_key(experiment, c, s, version)}.parquet" for i, (c, s) in enumerate(items)}
    todo = []
    for unit in units:
        if paths and all(paths[i].exists() for i in unit):
            results.update({i: pd.read_parquet(paths[i]) for i in unit})
        else:
            todo.append(unit)

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(items), initial=len(items) - sum(map(len, todo)), unit="run", disable=not progress, file=sys.stderr
    )

    def done(unit: list[int], frames: list[pd.DataFrame]) -> None:
        for i, frame in zip(unit, frames, strict=True):
            results[i] = frame
            if paths:
                _write(paths[i], frame)
        bar.update(len(unit))

    try:
        for unit, frames in _execute(experiment, [[items[i] for i in u] for u in todo], todo, scheduler, workers):
            done(unit, frames)
    finally:
        bar.close()
    table = _table(items, [results[i] for i in range(len(items))])
    table.attrs["runs"], table.attrs["runs_computed"] = len(items), sum(map(len, todo))  # the rest: read from cache
    return table


def _execute(
    experiment: Experiment,
    payloads: list[list[tuple[dict[str, Any], int]]],
    units: list[list[int]],
    scheduler: str,
    workers: int | None,
) -> Iterable[tuple[list[int], list[pd.DataFrame]]]:
    """Yield (unit, frames) as units finish."""
    if not units:
        return
    if scheduler == "serial":
        for unit, payload in zip(units, payloads, strict=True):
            yield unit, _run_unit(experiment, payload)
        return
    if scheduler == "processes":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("spawn")  # torch and threads do not survive fork
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=context) as pool:
            futures = {pool.submit(_run_unit, experiment, p): u for u, p in zip(units, payloads, strict=True)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        return
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "dask":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(_run_unit, [experiment] * len(payloads), payloads, pure=False)
        index = {future.key: unit for future, unit in zip(futures, units, strict=True)}
        for future in as_completed(futures):
            yield index[future.key], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _table(items: list[tuple[dict[str, Any], int]], frames: list[pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for (config, seed), frame in zip(items, frames, strict=True):
        clash = set(frame.columns) & (set(config) | {"seed"})
        if clash:
            raise ValueError(f"the experiment's columns {sorted(clash)} clash with the configuration's; rename them")
        head = pd.DataFrame({**{k: [v] * len(frame) for k, v in config.items()}, "seed": [seed] * len(frame)})
        parts.append(pd.concat([head, frame.reset_index(drop=True)], axis=1))
    return pd.concat(parts, ignore_index=True)
