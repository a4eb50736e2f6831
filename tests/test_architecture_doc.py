"""docs/architecture.md names only things that exist.

Every span in backticks is one of:
- `path` (has a slash, no spaces): the file or folder exists in the repository;
- `path::Name` or `path::Class.attribute`: a top-level def, class or assignment of that Python file (read with
  the AST, never imported), and for `Class.attribute` a def or assignment in that class's body;
- `/ar/…` or `/api/…` (a URL, `<slug>` standing for any slug): it resolves to a view other than a catch-all 404;
- `snake_case`: a database constraint or index (a `name=` of models.py or a migration), a trigger or SQL function
  created by a migration, or a management command;
- `app.name`: a task or permission name, written as a string literal in the app's code;
- `CapWords`: a top-level class of one of the project's apps;
- anything else (a space, parentheses, `<` or a leading dot: SQL, an expression) is prose and is not checked.
"""

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
DOC = ROOT / "docs" / "architecture.md"
APPS = ("participation", "accounts", "api", "hukoomi_portal")

SNAKE = re.compile(r"[a-z][a-z0-9_]*")
DOTTED = re.compile(r"(?:participation|accounts|api)\.[a-z][a-z0-9_]*")
CAPWORDS = re.compile(r"[A-Z][A-Za-z0-9]*")
PATHLIKE = re.compile(r"[\w./-]+")
SQL_NAME = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TRIGGER|FUNCTION)\s+(\w+)", re.I)


def citations(text):
    return re.findall(r"`([^`\n]+)`", text)


def python_files(*folders):
    for folder in folders:
        yield from (path for path in (ROOT / folder).rglob("*.py") if ".venv" not in path.parts)


@cache
def tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def assigned_names(target):
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from assigned_names(element)


def defined_in(body):
    """Names a module or class body defines: def, class, assignment (plain, annotated, tuple)."""
    names = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(dict.fromkeys(assigned_names(target), node))
        elif isinstance(node, ast.AnnAssign):
            names.update(dict.fromkeys(assigned_names(node.target), node))
    return names


def string_constants(path):
    return [
        node.value for node in ast.walk(tree(path)) if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@cache
def database_names():
    """Constraint and index names (name= in models.py and migrations), and triggers/functions the migrations create."""
    names = set()
    sources = [*python_files(*(f"{app}/migrations" for app in APPS if (ROOT / app / "migrations").is_dir()))]
    sources += [ROOT / app / "models.py" for app in APPS if (ROOT / app / "models.py").exists()]
    for path in sources:
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call) and (
                getattr(node.func, "attr", getattr(node.func, "id", "")).endswith(("Constraint", "Index"))
                or getattr(node.func, "id", "") == "single_line_constraint"
            ):
                names.update(
                    keyword.value.value
                    for keyword in node.keywords
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant)
                )
        if "migrations" in path.parts:
            for text in string_constants(path):
                names.update(SQL_NAME.findall(text))
    return names


@cache
def command_names():
    return {path.stem for app in APPS for path in (ROOT / app).glob("management/commands/*.py")}


@cache
def app_strings(app):
    return {text for path in python_files(app) for text in string_constants(path)}


@cache
def project_classes():
    return {
        node.name
        for path in python_files(*APPS)
        if "migrations" not in path.parts
        for node in tree(path).body
        if isinstance(node, ast.ClassDef)
    }


def check_symbol(citation):
    path_text, _, name = citation.partition("::")
    path = ROOT / path_text
    if not path.is_file() or path.suffix != ".py":
        return f"{path_text} is not a Python file"
    top, _, attribute = name.partition(".")
    names = defined_in(tree(path).body)
    if top not in names:
        return f"{path_text} defines no top-level {top}"
    if attribute:
        node = names[top]
        if not isinstance(node, ast.ClassDef) or attribute not in defined_in(node.body):
            return f"{path_text}::{top} has no {attribute}"
    return None


def check_url(citation):
    url = citation.replace("<slug>", "an-example")
    language = url.split("/")[1] if url.split("/")[1] in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            match = resolve(url)
        except Resolver404:
            return f"{citation} resolves to no view"
    if match.func.__name__ == "not_found":
        return f"{citation} only reaches the catch-all 404"
    return None


def problem(citation):
    """What is wrong with one citation, or None (also None for prose that is not checked)."""
    if "::" in citation:
        return check_symbol(citation)
    if citation.startswith("/"):
        return check_url(citation) if PATHLIKE.fullmatch(citation.replace("<slug>", "x")) else None
    if "/" in citation and PATHLIKE.fullmatch(citation):
        return None if (ROOT / citation).exists() else f"{citation} does not exist"
    if DOTTED.fullmatch(citation):
        app = citation.split(".")[0]
        return None if citation in app_strings(app) else f"no string {citation!r} in {app}/"
    if SNAKE.fullmatch(citation):
        if citation in database_names() or citation in command_names():
            return None
        return f"{citation} is no constraint, index, trigger, SQL function or management command"
    if CAPWORDS.fullmatch(citation):
        return None if citation in project_classes() else f"no class {citation} in {', '.join(APPS)}"
    return None


def test_every_citation_in_the_architecture_page_exists():
    cited = citations(DOC.read_text(encoding="utf-8"))
    assert len(cited) > 100, "the page cites the code it describes"
    wrong = [message for citation in dict.fromkeys(cited) if (message := problem(citation))]
    assert wrong == [], "docs/architecture.md cites what the code does not have:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "citation",
    [
        "participation/no_such_module.py",
        "participation/models.py::NoSuchClass",
        "participation/models.py::Item.no_such_method",
        "participation/models.py::Item.DoesNotExist",  # made by Django's metaclass, not written in the class body
        "participation/tally.py::transaction",  # imported there, not defined there
        "participation/rules.py::Barrier.DRAFT.message",  # one attribute deep only
        "one_ballot_per_voter",  # the constraint is one_poll_ballot_per_voter
        "participation_item_thawed",
        "participation.no_such_task",
        "NoSuchModel",
        "/ar/no-such-page/",
        "/api/v1/no-such-endpoint/",
    ],
)
def test_a_wrong_citation_is_caught(citation):
    assert problem(citation) is not None


@pytest.mark.parametrize(
    "citation",
    [
        "participation/models.py",
        "participation/models.py::Item",
        "participation/models.py::Item.current_state",
        "participation/permissions.py::PERMISSIONS",
        "one_poll_ballot_per_voter",
        "item_title_single_line",  # through single_line_constraint()
        "participation_result_no_truncate",
        "participation_item_id_has_opened",  # an SQL function
        "verify_export",
        "participation.tally_item",
        "PollBallot",
        "/ar/polls/<slug>/",
        "/api/v1/items/",
        "FOR UPDATE",  # prose
    ],
)
def test_a_right_citation_passes(citation):
    assert problem(citation) is None


def test_the_readme_links_the_page():
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
