"""A published referendum anyone can verify: the public ballots CSV and result JSON, and the standalone verifier.

The verifier runs as an outsider would run it: a separate `python3 -I` process, outside Django, on files
fetched through the public URLs. Each forgery must make it say MISMATCH and exit 1.
"""

import ast
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from participation.models import AuditEntry, Item, Kind, Result, State
from tests.answers import body_of, export_url, index_url
from tests.builders.audit import bus_poll, new_law_referendum, transport_consultation
from tests.builders.items import make_referendum
from tests.builders.users import auditor

from .conftest import t
from .forgeries import add_row, extra_column, remove_row, swap_labels

pytestmark = pytest.mark.django_db

VERIFIER = Path(finders.find("verify/verify_referendum.py"))
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def ballots_url(lang, slug):
    return f"/{lang}/referendums/{slug}/ballots.csv"


def result_url(lang, slug):
    return f"/{lang}/referendums/{slug}/result.json"


def fetch(client, lang, slug, tmp_path):
    """Download both public files as an anonymous visitor; return their paths."""
    ballots = client.get(ballots_url(lang, slug))
    result = client.get(result_url(lang, slug))
    assert (ballots.status_code, result.status_code) == (200, 200)
    csv_path, json_path = tmp_path / "ballots.csv", tmp_path / "result.json"
    csv_path.write_bytes(body_of(ballots))
    json_path.write_bytes(result.content)
    return csv_path, json_path


def run_verifier(csv_path, json_path):
    """(exit code, output) of the standalone verifier in its own isolated interpreter, away from the project."""
    done = subprocess.run(  # noqa: S603 (our own file, no shell)
        [sys.executable, "-I", str(VERIFIER), str(csv_path), str(json_path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=csv_path.parent,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def published():
    referendum, _receipts = new_law_referendum()
    assert referendum.state == State.PUBLISHED
    return referendum


# ---------------------------------------------------------------------------
# The public files
# ---------------------------------------------------------------------------


def test_anyone_may_download_the_ballots_of_a_published_referendum(client, lang, published):
    response = client.get(ballots_url(lang, published.slug))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="referendum-new-law-ballots.csv"'
    client.force_login(auditor())
    assert body_of(response) == body_of(client.get(export_url(lang, published, "ballots")))  # the auditors' file


def test_anyone_may_read_the_result_of_a_published_referendum(client, lang, published):
    response = client.get(result_url(lang, published.slug))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    result = Result.objects.get(item=published)
    audit = document.pop("audit")
    assert document == {
        "format": "hukoomi-referendum-result/1",
        "item": {
            "type": "referendum",
            "slug": "new-law",
            "title_ar": "قانون المرور الجديد",
            "title_en": "The new traffic law",
        },
        "question": {"position": 1, "ar": "هل توافق؟", "en": "Do you agree?"},
        "options": [
            {"position": 1, "ar": "نعم", "en": "Yes", "votes": 1},
            {"position": 2, "ar": "لا", "en": "No", "votes": 1},
            {"position": 0, "ar": "ورقة بيضاء", "en": "Blank vote", "votes": 1},
        ],
        "ballots": 3,
        "eligible": 3,
        "ballots_digest": result.ballots_digest,
        "tallied_at": "2026-03-20T12:00:00+03:00",
        "columns": ["type", "slug", "receipt", "question", "option", "option_ar", "option_en", "segment"],
    }
    entry = AuditEntry.objects.get(action="tally")
    assert audit["entry_hash"] == entry.entry_hash
    assert audit["position"] == AuditEntry.objects.filter(pk__lte=entry.pk).count()
    assert audit["position"] < AuditEntry.objects.count()  # publication and notifications came after


@pytest.mark.parametrize("make", ["open", "awaiting-approval"])
def test_only_published_referendums_have_public_files(client, lang, make):
    referendum, _receipts = new_law_referendum()
    Item.objects.filter(pk=referendum.pk).update(state=State.CLOSED if make == "awaiting-approval" else State.OPEN)
    client.force_login(auditor())  # not even an auditor: these are the public files
    assert client.get(ballots_url(lang, referendum.slug)).status_code == 404
    assert client.get(result_url(lang, referendum.slug)).status_code == 404


def test_a_draft_has_no_public_files(client, lang):
    """A published referendum cannot be turned back into a draft (the database refuses it); a draft has none."""
    draft = make_referendum(state=State.DRAFT)
    client.force_login(auditor())
    assert client.get(ballots_url(lang, draft.slug)).status_code == 404
    assert client.get(result_url(lang, draft.slug)).status_code == 404


def test_polls_and_consultations_have_no_public_referendum_files(client, lang):
    poll, _people = bus_poll()
    consultation, _comments, _moderator = transport_consultation()
    for slug in (poll.slug, consultation.slug, "no-such-item"):
        assert client.get(ballots_url(lang, slug)).status_code == 404
        assert client.get(result_url(lang, slug)).status_code == 404


def test_the_results_page_links_the_files_and_the_verifier_for_auditors(client, lang, published):
    page = client.get(f"/{lang}/referendums/{published.slug}/results/").content.decode()
    assert t(lang, "For auditors") in page
    assert f'href="{ballots_url(lang, published.slug)}"' in page
    assert f'href="{result_url(lang, published.slug)}"' in page
    assert 'href="/static/verify/verify_referendum.py"' in page


def test_a_result_awaiting_approval_links_nothing(client, lang):
    referendum, _receipts = new_law_referendum()
    Item.objects.filter(pk=referendum.pk).update(state=State.CLOSED)
    page = client.get(f"/{lang}/referendums/{referendum.slug}/results/").content.decode()
    assert ballots_url(lang, referendum.slug) not in page


def test_the_audit_page_offers_the_verifier(client, lang):
    client.force_login(auditor())
    page = client.get(index_url(lang)).content.decode()
    assert 'href="/static/verify/verify_referendum.py"' in page
    assert t(lang, "The verifier (Python 3, standard library only)") in page


# ---------------------------------------------------------------------------
# The standalone verifier
# ---------------------------------------------------------------------------


def test_the_verifier_uses_the_standard_library_only():
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_the_verifier_confirms_a_genuine_published_referendum(client, lang, published, tmp_path):
    code, out = run_verifier(*fetch(client, lang, published.slug, tmp_path))
    assert code == 0, out
    assert "OK: the ballots file gives exactly the published result." in out
    assert f"digest published: {Result.objects.get(item=published).ballots_digest}" in out
    assert "MISMATCH" not in out


def test_the_verifier_confirms_the_demo_referendum(client, settings, tmp_path):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    referendum = Item.objects.get(kind=Kind.REFERENDUM, slug="smoke-free-parks")
    assert referendum.state == State.PUBLISHED
    code, out = run_verifier(*fetch(client, "ar", referendum.slug, tmp_path))
    assert code == 0, out


def rewrite_csv(path, change):
    text = path.read_bytes().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    header, rows = change(header, [list(row) for row in rows])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def rewrite_json(path, change):
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def arabic_indic_digits(header, rows):
    return header, [[*row[:4], row[4].translate(ARABIC_INDIC), *row[5:]] for row in rows]


def duplicate_row(header, rows):
    return header, [*rows, rows[0]]


def more_yes_in_json(document):
    """One No moved to Yes: the totals still add up."""
    votes = {o["position"]: o for o in document["options"]}
    votes[1]["votes"] += 1
    votes[2]["votes"] -= 1


def other_digest_in_json(document):
    document["ballots_digest"] = "0" * 64


# A forgery, and the line the verifier must print about it.
FORGERIES = {
    "swapped-labels": (swap_labels, None, "is labelled 'لا' / 'No', but published as 'نعم' / 'Yes'"),
    "arabic-indic-digits": (arabic_indic_digits, None, "the option '١' is not a number written in ASCII digits"),
    "extra-column": (extra_column, None, "MISMATCH: the columns are"),
    "removed-row": (remove_row, None, "the file has 2 ballots, the result counts 3"),
    "added-row": (add_row, None, "the file has 4 ballots, the result counts 3"),
    "duplicated-row": (duplicate_row, None, "appears twice"),
    "count-in-json": (None, more_yes_in_json, "option 1: 1 ballots in the file, 2 in the result"),
    "digest-in-json": (None, other_digest_in_json, "the digest of the file is not the published ballots digest"),
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
def test_the_verifier_catches(client, lang, published, tmp_path, forgery):
    change_csv, change_json, message = FORGERIES[forgery]
    csv_path, json_path = fetch(client, lang, published.slug, tmp_path)
    if change_csv:
        rewrite_csv(csv_path, change_csv)
    if change_json:
        rewrite_json(json_path, change_json)
    code, out = run_verifier(csv_path, json_path)
    assert code == 1, out
    assert message in out
    assert "OK" not in out


def test_the_verifier_says_what_it_cannot_read(client, lang, published, tmp_path):
    csv_path, json_path = fetch(client, lang, published.slug, tmp_path)
    json_path.write_text("{not json", encoding="utf-8")
    code, out = run_verifier(csv_path, json_path)
    assert code == 2
    assert out.startswith("CANNOT READ")
