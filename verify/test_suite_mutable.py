"""The check code stays visible to mutation testing.

mutmut 3 does not mutate a decorated function (its decorator runs at import, and the trampoline that switches
mutants cannot wrap it), so a check registered with `@check(...)` would sit outside `make mutants`' score without
anyone noticing. Checks are registered with a call after the function instead (`verify.suite.check`), and
tools/mutants.py lets mutmut into `@dataclass` classes. What stays decorated is a stated exception: functools caches
(their results, once filled by mutmut's stats run, would be inherited by every forked mutant anyway).
"""

import ast
from pathlib import Path

from verify.suite import CHECKS

ROOT = Path(__file__).resolve().parents[1]
CHECK_CODE = [*sorted((ROOT / "verify" / "suite").glob("*.py")), ROOT / "verify" / "agreement.py"]
ALLOWED_FUNCTION_DECORATORS = {"functools.lru_cache", "functools.cache"}


def _name(decorator: ast.expr) -> str:
    return ast.unparse(decorator.func if isinstance(decorator, ast.Call) else decorator)


def hidden_from_mutation(source: str) -> list[str]:
    """Top-level functions and classes whose decorators make mutmut skip them."""
    hidden = []
    for node in ast.parse(source).body:
        names = [_name(d) for d in getattr(node, "decorator_list", [])]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and set(names) - ALLOWED_FUNCTION_DECORATORS:
            hidden.append(node.name)
        if isinstance(node, ast.ClassDef) and any(n.rsplit(".", 1)[-1] != "dataclass" for n in names):
            hidden.append(node.name)
    return hidden


def test_no_check_code_is_hidden_from_mutation_by_a_decorator():
    hidden = {p.relative_to(ROOT).as_posix(): hidden_from_mutation(p.read_text()) for p in CHECK_CODE}
    assert not {k: v for k, v in hidden.items() if v}, f"decorated, so never mutated: {hidden}"


def test_the_guard_sees_a_decorated_check_and_a_decorated_class():
    assert hidden_from_mutation('@check("l", "n", faults={"law": 1e-9})\ndef f(seed, fault):\n    pass\n') == ["f"]
    assert hidden_from_mutation("@total_ordering\nclass A:\n    pass\n") == ["A"]
    assert hidden_from_mutation("@dataclass(frozen=True)\nclass A:\n    x: int\n") == []
    assert hidden_from_mutation("@functools.lru_cache(maxsize=4)\ndef g(seed):\n    pass\n") == []


def test_every_registered_check_is_a_module_level_function_of_the_suite():
    # the registry holds wrappers named after the functions they run; each must be defined at the top of a suite
    # module, where mutmut puts its trampoline
    top_level = set()
    for path in CHECK_CODE:
        top_level |= {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    names = {run.__name__ for checks in CHECKS.values() for run in checks.values()}
    assert len(names) == sum(len(c) for c in CHECKS.values()) and names <= top_level
