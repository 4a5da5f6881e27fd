"""Reports: exit codes, one-line errors, byte-identical markdown for the same seed, every linked figure exists."""

import os
import re
from pathlib import Path

import pytest

from verify.cli import main

LAWS = ["nullspace_preservation", "layer_balance"]  # the two fastest laws keep this test quick


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.glob("*.md"))}


def test_same_seed_same_markdown_and_figures_exist(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["report", *LAWS, "--out", str(a), "--seed", "3"]) == 0
    assert main(["report", *LAWS, "--out", str(b), "--seed", "3"]) == 0
    pa, pb = _pages(a), _pages(b)
    assert set(pa) == {f"{law}.md" for law in LAWS}
    assert pa == pb
    for name, text in pa.items():
        assert text.startswith("# ") and "**Verdict: PASS**" in text
        links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        assert links, f"{name} links no figure"
        for link in links:
            assert not os.path.isabs(link) and (a / link).stat().st_size > 1000
    assert (a / "timings.json").exists()
    assert not list(a.glob("*.tmp"))  # atomic writes leave no temporaries


def test_full_report_writes_index(tmp_path):
    out = tmp_path / "r"
    assert main(["report", "--quick", "--out", str(out)]) == 0
    index = (out / "README.md").read_text()
    from verify.suite import CHECKS

    for law in CHECKS:
        assert f"[{law}]({law}.md)" in index
        assert (out / f"{law}.md").exists()


def test_unwritable_output_directory_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["report", "layer_balance", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot create output directory" in err and "\n" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_read_only_output_directory_exits_2(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert main(["report", "layer_balance", "--out", str(ro)]) == 2
    assert "not writable" in capsys.readouterr().err
