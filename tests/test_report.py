"""Reports: exit codes, one-line errors, byte-identical markdown for the same seed, every linked figure exists."""

import os
import re
from pathlib import Path

import pytest

from verify.cli import main

LAWS = ["nullspace_preservation", "layer_balance"]  # the two fastest laws keep this test quick


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.glob("*.md")) if p.name not in ("README.md", "ENVIRONMENT.md")}


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
    assert (a / "timings.json").exists() and (a / "ENVIRONMENT.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no staging directory left behind
    sindy = pa["layer_balance.md"].split("## Discovery: `balance_conservation` (sindy")[1].split("## ")[0]
    assert "generations" not in sindy and "budget none (a deterministic sparse regression)" in sindy
    assert "(best): the simplest row" in sindy
    for text in pa.values():  # each check row states the planted faults it is asserted to fail on
        cells = re.findall(r"^\| `\w+` \| PASS \| ([^|]*) \|", text, re.M)
        assert cells and all(re.fullmatch(r"(clock|rate|law) \S+(, (clock|rate|law) \S+)*", c.strip()) for c in cells)
    for text in pa.values():  # machine-dependent facts stay off the pages
        assert "hypothesis" not in text and "](ENVIRONMENT.md)" in text


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


def test_report_refuses_to_overwrite_a_foreign_file(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "README.md").write_text("a README that lawbook did not write\n")
    assert main(["report", "layer_balance", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "README.md (not written by lawbook)" in err and "--force" in err and "\n" not in err
    assert (out / "README.md").read_text() == "a README that lawbook did not write\n"
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
    assert main(["report", "layer_balance", "--out", str(out), "--force"]) == 0
    assert "[layer_balance](layer_balance.md)" in (out / "README.md").read_text()


def test_index_lists_each_page_with_the_seed_it_was_made_with(tmp_path):
    out = tmp_path / "r"
    assert main(["report", *LAWS, "--out", str(out)]) == 0
    assert main(["report", "layer_balance", "--out", str(out), "--seed", "1"]) == 0
    rows = {
        line.split("|")[1].strip(): line
        for line in (out / "README.md").read_text().splitlines()
        if line.startswith("| [")
    }
    assert "| 1 | full |" in rows["[layer_balance](layer_balance.md)"]
    assert "| 0 | full |" in rows["[nullspace_preservation](nullspace_preservation.md)"]
    assert "Seed 1, full run" in (out / "layer_balance.md").read_text()


def test_interrupt_prints_one_line_and_leaves_the_report(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "r"
    assert main(["report", "layer_balance", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code = f"import sys; from verify.cli import main; sys.exit(main(['report', '--out', {str(out)!r}, '--seed', '1']))"
    # the child gets SIGINT's default disposition, so that Python installs its handler even when this test runs
    # under a shell that started it in the background (which makes SIGINT ignored, and children inherit that)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(6.0)  # imports take ~2 s and the full report minutes: the interrupt lands inside the run
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1] == "lawbook: interrupted; no report was half-written"
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
