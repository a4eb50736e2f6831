"""The layout holds: only the services write, no import cycles, no unexplained imports inside functions.

Read from the source (AST), so a new module is checked the day it is written. The runtime half of
"only the services write" is tests/participation/test_only_services_write.py.
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("participation", "accounts", "api", "hukoomi_portal")
SERVICES = ROOT / "participation" / "services"
MANAGER_WRITES = {"create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}

# Writers outside the services, each with the reason it may stay. Keep this short: (file, function or "*").
ALLOWED_WRITERS = {
    ("participation/demo.py", "*"): "demo data for `seed_demo`: rows built as the test factories build them; "
    "its lifecycle steps (schedule, close, tally, publish) and its ballots and comments go through the services",
    ("participation/management/commands/seed_demo.py", "*"): "the demo accounts (accounts models, not participation)",
    ("participation/admin.py", "save"): "SelfNumberingFormSet.save renumbers a draft's questions, options and "
    "sections inside the admin's own form save (Django's ModelForm write path for drafts)",
}


def project_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def relative(path):
    return path.relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------
# Only the services write
# ---------------------------------------------------------------------------


def participation_models():
    return {model.__name__ for model in apps.get_app_config("participation").get_models()}


def _chain(node):
    """(root name or None, [attribute names from the root outwards]) of `Root.a.b(...).c`."""
    attributes = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, attributes[::-1]
        else:
            return None, attributes[::-1]


class WriteFinder(ast.NodeVisitor):
    """Calls that write a participation model: `<Model>.objects…<write>(…)`, a manager write we cannot
    place (`self.model.objects…`), and every `.save()`/`.delete()` on an instance, except super().save(),
    form and formset saves (in a Form/FormSet class's save, allauth's signup(request, user) hook, or on a
    name ending in form/formset) and models.py, where the models save themselves."""

    def __init__(self, path, models):
        self.path, self.models, self.found, self.scope = path, models, [], []

    def visit_FunctionDef(self, node):
        self.scope.append(node)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.scope.append(node)
        self.generic_visit(node)
        self.scope.pop()

    def function(self):
        functions = [n.name for n in self.scope if not isinstance(n, ast.ClassDef)]
        return functions[0] if functions else "<module>"

    def in_form_save(self):
        classes = [n.name for n in self.scope if isinstance(n, ast.ClassDef)]
        functions = [n.name for n in self.scope if not isinstance(n, ast.ClassDef)]
        return bool(classes) and re.search(r"Form(Set)?$", classes[-1]) and functions[:1] in (["save"], ["signup"])

    def report(self, node, what):
        self.found.append((relative(self.path), self.function(), node.lineno, what))

    def visit_Call(self, node):
        self.generic_visit(node)
        if not isinstance(node.func, ast.Attribute):
            return
        method = node.func.attr
        root, attributes = _chain(node.func.value)
        if method in MANAGER_WRITES and "objects" in attributes:
            if root in self.models:
                self.report(node, f"{root}.objects….{method}()")
            elif root == "self" or root not in _KNOWN_OTHER_MODELS:
                self.report(node, f"{root}.{'.'.join(attributes)}….{method}() (a model we cannot tell)")
            return
        if method not in ("save", "delete") or "objects" in attributes:
            return
        receiver = node.func.value
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
            return
        if root in ("cache", "session") or (root and re.search(r"form(set)?$", root, re.IGNORECASE)):
            return
        if self.path.name == "models.py" or self.in_form_save():
            return
        self.report(node, f"{root}.{'.'.join(attributes)}.{method}()" if attributes else f"{root}.{method}()")


# Models of other apps written by name outside the services (accounts' own rows, allauth's, auth's groups).
_KNOWN_OTHER_MODELS = {"User", "Group", "EmailAddress", "IdentityClaim", "VerificationDecision", "LogEntry", None}


def writes_outside_services():
    models = participation_models()
    found = []
    for path in project_files():
        if SERVICES in path.parents:
            continue
        finder = WriteFinder(path, models)
        finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += [
            hit
            for hit in finder.found
            if (hit[0], "*") not in ALLOWED_WRITERS and (hit[0], hit[1]) not in ALLOWED_WRITERS
        ]
    return found


def test_only_the_services_write_participation_models():
    found = writes_outside_services()
    assert found == [], "Write through participation/services/ instead:\n" + "\n".join(
        f"  {path}:{line} in {function}(): {what}" for path, function, line, what in found
    )


def test_the_write_finder_finds_the_writes_it_is_meant_to_find():
    """The scan would see the seven writers the issue names, had they come back."""
    source = """
def unsubscribe(request, user):
    user.save(update_fields=["notify_results"])

def tally(item):
    Item.objects.filter(pk=item.pk).update(state="closed")
    Result.objects.create(item=item)

def claim(item, user):
    Notification.objects.get_or_create(item=item, user=user)

def forget(self):
    self.model.objects.filter(pk=1).delete()
    sealed.delete()
"""
    finder = WriteFinder(ROOT / "participation" / "not_a_module.py", participation_models())
    finder.visit(ast.parse(source))
    assert [line for _path, _function, line, _what in finder.found] == [3, 6, 7, 10, 13, 14]


def test_every_allowed_writer_still_writes():
    """An allowance with nothing left to allow is removed, so the list stays the list of real exceptions."""
    models = participation_models()
    unused = []
    for (path, function), _reason in ALLOWED_WRITERS.items():
        finder = WriteFinder(ROOT / path, models)
        finder.visit(ast.parse((ROOT / path).read_text(encoding="utf-8")))
        if not any(function in ("*", hit[1]) for hit in finder.found):
            unused.append((path, function))
    assert unused == []


# ---------------------------------------------------------------------------
# No import cycles; imports inside functions say why
# ---------------------------------------------------------------------------

# Cycles Django forces on us, each with its reason. Empty today; keep it tiny.
ALLOWED_CYCLES = {}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path, node):
    """The absolute module a `from … import` names (relative imports resolved)."""
    if not node.level:
        return node.module
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def module_level_imports(path, modules):
    """Project modules imported when `path` is imported: everything outside function bodies."""
    imported = set()

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(path, node)
                for alias in node.names:
                    imported.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) or [])

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in imported if name in modules}


def import_graph():
    files = {module_name(path): path for path in project_files()}
    return {name: module_level_imports(path, files) - {name} for name, path in files.items()}


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_there_is_no_import_cycle_among_the_project_modules():
    found = [sorted(cycle) for cycle in cycles(import_graph()) if cycle not in ALLOWED_CYCLES]
    assert found == [], f"Import cycles (break them, or list one Django forces in ALLOWED_CYCLES): {found}"


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_the_services_never_import_the_tasks():
    graph = import_graph()
    services = [name for name in graph if name.startswith("participation.services")]
    assert services and all("participation.tasks" not in graph[name] for name in services)


def imports_inside_functions_without_a_reason(source, label=""):
    """Imports in a function body with no `# ` comment (other than noqa) on their line or the line above."""
    lines = source.splitlines()
    unexplained = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                same, above = lines[node.lineno - 1], lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                if not (re.search(r"\s# (?!noqa)", same) or above.startswith("# ")):
                    unexplained.append(f"{label}:{node.lineno}: {same.strip()}")
    return unexplained


def test_an_import_inside_a_function_says_why():
    found = [
        line
        for path in project_files()
        for line in imports_inside_functions_without_a_reason(path.read_text(encoding="utf-8"), relative(path))
    ]
    assert found == [], "Import at module level, or say why not in a comment on the line or above:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "explained"),
    [
        ("def f():\n    from . import tasks\n", False),
        ("def f():\n    from . import tasks  # noqa: F401\n", False),
        ("def f():\n    # tasks imports this module\n    from . import tasks\n", True),
        ("def f():\n    import redis  # optional dependency\n", True),
    ],
)
def test_the_reason_check_reads_comments_on_the_line_or_above(source, explained):
    assert (imports_inside_functions_without_a_reason(source) == []) is explained
