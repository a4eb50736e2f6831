"""The tests build their world in one place, tests/builders/: a second `make_poll` cannot creep back.

Two `make_poll` helpers with different return types lived side by side once (issue 14); this scan fails
when a module under tests/ outside the builders defines a builder's name again.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
BUILDERS = TESTS / "builders"

# Besides every make_* name: the builders that once had copies (tests/participation/factories.py,
# lifecycle_helpers.py, audit_helpers.py, e2e/builders.py) under these names.
RESERVED = {
    "add_question",
    "add_section",
    "opened",
    "question_and_options",
    "set_state",
    "single_choices",
    "sealed_ballots",
    "staff_in",
    "staff_member",
}


def defined_functions(path):
    """(line, name) of every function defined in a module, nested ones and lambdas bound to a name included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.lineno, node.name
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield node.lineno, target.id


def is_reserved(name):
    return name.startswith("make_") or name in RESERVED


def copies_outside_the_builders(root=TESTS):
    builders = root / "builders"
    return [
        f"{path.relative_to(root)}:{line} defines {name}"
        for path in sorted(root.rglob("*.py"))
        if builders not in path.parents
        for line, name in sorted(defined_functions(path))
        if is_reserved(name)
    ]


def test_no_module_outside_the_builders_defines_a_builder():
    assert copies_outside_the_builders() == [], "build the world with tests/builders/ instead"


def test_the_reserved_names_are_the_builders_own():
    """Every reserved name is defined by the builders (a renamed builder leaves no stale name behind)."""
    defined = {name for path in BUILDERS.glob("*.py") for _line, name in defined_functions(path)}
    assert RESERVED - {"opened", "staff_in", "staff_member"} <= defined
    assert {"make_poll", "make_referendum", "make_consultation", "make_staff", "make_entity"} <= defined


def test_the_scan_finds_a_second_make_poll(tmp_path):
    (tmp_path / "builders").mkdir()
    (tmp_path / "builders" / "items.py").write_text("def make_poll():\n    pass\n")
    (tmp_path / "test_x.py").write_text(
        "def test_a():\n    def make_poll(**fields):\n        return None\n\n\nstaff_in = lambda role: role\n"
    )
    assert copies_outside_the_builders(tmp_path) == ["test_x.py:2 defines make_poll", "test_x.py:6 defines staff_in"]
