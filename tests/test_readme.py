"""The README examples run as written and print what their `# →` comments say."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run_and_print_what_they_say():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2, "README lost its python examples"
    for code in blocks:
        namespace: dict = {}  # each block on its own, as a reader who pastes only that one would run it
        expected = [line.split("# → ", 1)[1].strip() for line in code.splitlines() if "# → " in line]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), namespace)
        assert out.getvalue().strip().splitlines() == expected
