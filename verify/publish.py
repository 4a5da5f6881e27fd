"""Writing a report directory so that nothing is destroyed and nothing is mixed (the CLI's file-writing half).

`publish` is the only code in lawbook that writes report files. Its guarantees:

- **Nothing foreign is overwritten.** The directory keeps a manifest, ``.lawbook-manifest.json``, naming every
  file lawbook wrote there with its SHA-256. A file that would be written or removed and is not in the manifest
  (someone else's ``README.md``), or whose bytes changed since lawbook wrote it (a hand-edited page), stops the
  run with `PublishError` before anything is touched, unless ``force=True``. Files nobody asked about stay.
- **Readers see the old report or the new one, never a mixture.** The new report is assembled in a temporary
  sibling directory (unchanged files hard-linked from the old one) and swapped in by renames: one atomic exchange
  (``renameat2(RENAME_EXCHANGE)``) where the kernel offers it, else two renames with a moment in which the
  directory is absent. An interrupt or error before the swap removes the sibling and leaves the old directory as
  it was.
- **Ordinary permissions.** Files and directories are created with the user's umask, like any other tool.
- **Reproducible bytes.** The manifest holds names and hashes only, sorted, so the same report gives the same
  manifest; files marked ``volatile`` (wall times) are listed without a hash.

>>> import tempfile
>>> out = Path(tempfile.mkdtemp()) / "reports"
>>> publish(out, [ReportFile("a.md", "index", b"hello\\n")])
>>> sorted(p.name for p in out.iterdir())
['.lawbook-manifest.json', 'a.md']
>>> publish(out, [ReportFile("a.md", "index", b"hello again\\n")])
>>> (out / "a.md").read_text()
'hello again\\n'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "Manifest", "PublishError", "ReportFile", "check_destination", "publish", "read_manifest"]

MANIFEST = ".lawbook-manifest.json"
_FORMAT = 1


class PublishError(ValueError):
    """The report cannot be written without destroying something; the message names the files and the fix."""


@dataclass(frozen=True)
class ReportFile:
    """One file of a report: its name inside the directory, the part of the report that owns it (a law's name,
    or ``"index"``), and its bytes — or a function that renders them, called during the write phase.
    ``volatile`` files (wall times) change from run to run and are listed in the manifest without a hash."""

    name: str
    owner: str
    data: bytes | Callable[[], bytes]
    volatile: bool = False

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name or self.name in (".", "..", MANIFEST):
            raise ValueError(f"report file name {self.name!r} must be a plain file name (no directories)")

    def render(self) -> bytes:
        data = self.data() if callable(self.data) else self.data
        if not isinstance(data, bytes):
            raise TypeError(f"report file {self.name!r} rendered {type(data).__name__}, expected bytes")
        return data


@dataclass(frozen=True)
class Manifest:
    """What lawbook wrote into a report directory: file name → (owner, SHA-256 or None for volatile files),
    and per-owner metadata (e.g. a law's seed and verdict, from which the index is rebuilt)."""

    files: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    owners: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        doc = {
            "format": _FORMAT,
            "written_by": "lawbook",
            "files": {name: {"owner": o, "sha256": h} for name, (o, h) in sorted(self.files.items())},
            "owners": {k: dict(v) for k, v in sorted(self.owners.items())},
        }
        return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of ``directory``, None when it has none; `PublishError` when it is unreadable."""
    path = Path(directory) / MANIFEST
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != _FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {_FORMAT}")
        files = {str(k): (str(v["owner"]), v["sha256"]) for k, v in doc["files"].items()}
        owners = {str(k): dict(v) for k, v in doc.get("owners", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PublishError(
            f"{path} is not a lawbook manifest ({err}); remove it to start afresh, or pass --force"
        ) from None
    return Manifest(files, owners)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refuse_dangerous(out: Path) -> None:
    """The swap replaces the whole directory: never do that to the working directory, a parent of it, a home
    directory or a repository root."""
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise PublishError(f"--out {out} is the current directory or one of its parents; name a directory of its own")
    if out == Path.home().resolve() or out == Path(out.anchor):
        raise PublishError(f"--out {out} is a home or root directory; name a directory of its own")
    if (out / ".git").exists():
        raise PublishError(f"--out {out} holds a .git repository; name a directory of its own for the report")


def _conflicts(out: Path, old: Manifest | None, touched: Iterable[str]) -> list[str]:
    """Files that writing or removing ``touched`` would destroy: not written by lawbook, or edited since."""
    listed = old.files if old is not None else {}
    bad = []
    for name in sorted(set(touched)):
        path = out / name
        if not (path.exists() or path.is_symlink()):
            continue
        if name not in listed:
            bad.append(f"{name} (not written by lawbook)")
        elif path.is_symlink() or not path.is_file():
            bad.append(f"{name} (not a regular file)")
        elif listed[name][1] is not None and _sha256(path) != listed[name][1]:
            bad.append(f"{name} (changed since lawbook wrote it)")
    return bad


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed: a copy keeps the same bytes
        shutil.copy2(src, dst)


def _make_sibling(out: Path) -> Path:
    """A new empty directory next to ``out`` (same file system, so renames are atomic), made with the umask."""
    for _ in range(100):
        path = out.parent / f".{out.name}.lawbook-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as err:
            raise PublishError(f"cannot write next to {out}: {err.strerror}; choose another --out") from None
    raise PublishError(f"cannot create a temporary directory next to {out}")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2 with RENAME_EXCHANGE); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False  # EINVAL/ENOSYS (file system or kernel without it): fall back to two renames


def check_destination(out: Path, *, force: bool = False, names: Iterable[str] = ()) -> tuple[Path, Manifest | None]:
    """Everything about ``out`` that can stop a report, checked before the work that fills it: a usable
    directory (created if missing, with its parents), writable next to it, a readable manifest, and no file among
    ``names`` (those known in advance) that lawbook did not write (the last two ignored with ``force``).
    Returns the absolute path to write and the manifest found there (None for none).
    Raises `PublishError` naming the problem and the fix."""
    out = Path(out)
    if str(out) in ("", "."):
        raise PublishError("the output directory must be named (got an empty path or '.')")
    if out.is_symlink():
        out = out.resolve()  # update the directory the link points to, keep the link
    out = out.absolute()
    _refuse_dangerous(out.resolve() if out.exists() else out)
    if out.exists() and not out.is_dir():
        raise PublishError(f"output {out} exists and is not a directory; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PublishError(f"cannot create output directory {out}: {err.strerror}; choose another --out") from None
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PublishError(f"output directory {out} or its parent is not writable; choose another --out")
    old = None
    if out.exists():
        try:
            old = read_manifest(out)
        except PublishError:
            if not force:
                raise
        if not force:
            _refuse_conflicts(out, old, names)
    return out, old


def _refuse_conflicts(out: Path, old: Manifest | None, touched: Iterable[str]) -> None:
    bad = _conflicts(out, old, touched)
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise PublishError(
            f"refusing to overwrite in {out}: {shown}. Move them away, choose another --out, or pass --force"
        )


def publish(
    out: Path,
    files: Sequence[ReportFile],
    *,
    owners: Mapping[str, Mapping[str, Any]] | None = None,
    force: bool = False,
) -> None:
    """Write ``files`` into the directory ``out`` (see the module docstring for the guarantees).

    Files that lawbook wrote earlier for an owner of ``files`` and that are not written again are removed, so a
    renamed figure leaves no stale copy. ``owners`` updates the
    per-owner metadata kept in the manifest. Raises `PublishError` (a `ValueError`) naming the files that would
    be destroyed and the fix; ``force=True`` overwrites them.
    """
    names = [f.name for f in files]
    out, old = check_destination(out, force=force)
    if len(set(names)) != len(names):
        raise ValueError(f"a report names a file twice: {sorted({n for n in names if names.count(n) > 1})}")
    replaced = {f.owner for f in files}
    stale = {n for n, (o, _) in (old.files.items() if old else ()) if o in replaced and n not in names}
    if out.exists() and not force:
        _refuse_conflicts(out, old, [*names, *stale])

    new_files = {n: v for n, v in (old.files.items() if old else ()) if n not in stale and n not in names}
    new_owners = {k: v for k, v in (old.owners.items() if old else ()) if k not in replaced}
    new_owners.update(owners or {})

    stage = _make_sibling(out)
    try:
        if out.exists():
            shutil.copystat(out, stage)  # the report directory keeps its permissions
            skip = {*names, *stale, MANIFEST}
            for entry in out.iterdir():
                if entry.name in skip:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.copytree(entry, stage / entry.name, symlinks=True, copy_function=_link_or_copy)
                elif entry.is_symlink():
                    os.symlink(os.readlink(entry), stage / entry.name)
                else:
                    _link_or_copy(str(entry), str(stage / entry.name))
        for f in files:
            data = f.render()
            with open(stage / f.name, "xb") as handle:  # "x": a new inode, never through a hard link
                handle.write(data)
            new_files[f.name] = (f.owner, None if f.volatile else hashlib.sha256(data).hexdigest())
        with open(stage / MANIFEST, "xb") as handle:
            handle.write(Manifest(new_files, new_owners).to_bytes())
        if not out.exists():
            os.rename(stage, out)
        elif _exchange(stage, out):
            shutil.rmtree(stage)  # stage now holds the old report
        else:
            retired = _make_sibling(out)
            retired.rmdir()
            os.rename(out, retired)
            try:
                os.rename(stage, out)
            except BaseException:
                os.rename(retired, out)  # put the old report back before the handler removes the new one
                raise
            shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
