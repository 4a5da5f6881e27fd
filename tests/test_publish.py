"""Report directories: nothing foreign is overwritten, readers never see a mixture, files get the user's umask."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from verify.publish import MANIFEST, PublishError, ReportFile, publish, read_manifest


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _report(tag: str, owner: str = "law") -> list[ReportFile]:
    return [
        ReportFile(f"{owner}.md", owner, f"page {tag}\n".encode()),
        ReportFile(f"{owner}.png", owner, f"figure {tag}".encode()),
        ReportFile("README.md", "index", f"index {tag}\n".encode()),
    ]


def test_writes_files_and_a_manifest_of_them(tmp_path):
    out = tmp_path / "reports"
    publish(out, _report("a"))
    manifest = read_manifest(out)
    assert manifest is not None and set(manifest.files) == {"law.md", "law.png", "README.md"}
    assert (out / "law.md").read_text() == "page a\n"
    assert not [p for p in tmp_path.iterdir() if p.name != "reports"]  # no temporary sibling left behind


def test_foreign_file_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "README.md").write_text("my own notes\n")
    with pytest.raises(PublishError, match=r"README.md \(not written by lawbook\).*--force"):
        publish(out, _report("a"))
    assert _snapshot(out) == {"README.md": b"my own notes\n"}  # nothing touched, not even partly
    publish(out, _report("a"), force=True)
    assert (out / "README.md").read_text() == "index a\n"


def test_a_page_edited_since_lawbook_wrote_it_is_not_overwritten(tmp_path):
    out = tmp_path / "reports"
    publish(out, _report("a"))
    (out / "law.md").write_text("page a, with a hand-written remark\n")
    with pytest.raises(PublishError, match=r"law.md \(changed since lawbook wrote it\)"):
        publish(out, _report("b"))
    assert (out / "law.md").read_text() == "page a, with a hand-written remark\n"


def test_files_nobody_asked_about_survive_and_stale_ones_go(tmp_path):
    out = tmp_path / "reports"
    publish(out, _report("a"))
    (out / "notes.txt").write_text("keep me\n")
    (out / "studies").mkdir()
    (out / "studies" / "x.md").write_text("keep me too\n")
    publish(out, [ReportFile("law.md", "law", b"page b\n")])  # the figure of 'law' is not written again
    snap = _snapshot(out)
    assert "law.png" not in snap and snap["law.md"] == b"page b\n"
    assert snap["notes.txt"] == b"keep me\n" and snap["studies/x.md"] == b"keep me too\n"
    assert snap["README.md"] == b"index a\n"  # another owner's file is kept
    assert set(read_manifest(out).files) == {"law.md", "README.md"}


def test_an_interrupt_in_the_write_phase_leaves_the_old_report(tmp_path):
    out = tmp_path / "reports"
    publish(out, [*_report("a"), *_report("a", owner="other")[:2]])
    before = _snapshot(out)
    seen: list[dict] = []

    def interrupted() -> bytes:
        seen.append(_snapshot(out))  # what a reader sees while the new report is being written
        raise KeyboardInterrupt

    files = [*_report("b"), ReportFile("other.md", "other", interrupted)]
    with pytest.raises(KeyboardInterrupt):
        publish(out, files)
    assert seen == [before]  # the first new files are already written, but not where a reader looks
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # the staging directory is gone


def test_new_report_replaces_the_old_one_whole(tmp_path):
    out = tmp_path / "reports"
    publish(out, _report("a"))
    publish(out, _report("b"))
    assert _snapshot(out)["law.md"] == b"page b\n" and _snapshot(out)["README.md"] == b"index b\n"


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_files_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    previous = os.umask(umask)
    try:
        out = tmp_path / "reports"
        publish(out, _report("a"))
        publish(out, _report("b"))  # the second run goes through the staging directory and the swap
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == file_mode, p.name


def test_manifest_is_deterministic_and_volatile_files_have_no_hash(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out, seconds in ((a, b"1.5"), (b, b"2.5")):
        publish(out, [*_report("x"), ReportFile("timings.json", "timings", seconds, volatile=True)])
    assert (a / MANIFEST).read_bytes() == (b / MANIFEST).read_bytes()
    doc = json.loads((a / MANIFEST).read_text())
    assert doc["files"]["timings.json"]["sha256"] is None and doc["files"]["law.md"]["sha256"]


@pytest.mark.parametrize("where", ["cwd", "parent", "repo"])
def test_refuses_to_swap_a_directory_that_is_not_a_report(tmp_path, monkeypatch, where):
    work = tmp_path / "project" / "sub"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    target = {"cwd": work, "parent": work.parent, "repo": tmp_path / "repo"}[where]
    if where == "repo":
        (target / ".git").mkdir(parents=True)
    with pytest.raises(PublishError, match="name a directory of its own"):
        publish(target, _report("a"), force=True)


def test_bad_names_and_an_unreadable_manifest(tmp_path):
    with pytest.raises(ValueError, match="plain file name"):
        ReportFile("../escape.md", "law", b"")
    out = tmp_path / "reports"
    out.mkdir()
    (out / MANIFEST).write_text("{not json")
    with pytest.raises(PublishError, match="not a lawbook manifest"):
        publish(out, _report("a"))
    publish(out, _report("a"), force=True)
    assert read_manifest(out) is not None
    with pytest.raises(PublishError, match="empty path"):
        publish(Path(""), _report("a"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PublishError, match="not a directory"):
        publish(blocker, _report("a"))


def test_a_symlinked_report_directory_is_updated_through_the_link(tmp_path):
    real = tmp_path / "real"
    publish(real, _report("a"))
    link = tmp_path / "link"
    link.symlink_to(real)
    publish(link, _report("b"))
    assert link.is_symlink() and (real / "law.md").read_text() == "page b\n"
