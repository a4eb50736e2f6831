"""A published result cannot change quietly (issue 9, part 6).

- The database refuses UPDATE and DELETE of participation_result, even in raw SQL (SQLite and PostgreSQL;
  on PostgreSQL also TRUNCATE, and also with session_replication_role = replica).
- The tally writes its counts and digest on the audit trail in the Result's transaction.
- verify_export checks the whole ballots file, and the result against the tally entry: a result changed
  with the trigger dropped (the insider's UPDATE of issue 9) no longer matches the trail.
"""

import csv
import importlib
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from participation import audit, verification
from participation.models import AuditEntry, Result, State
from participation.services import counting, trail
from tests.answers import body_of, export_url, run_command
from tests.audit_guards import remove_audit_entry, tamper_with_audit_log
from tests.builders.audit import bus_poll, new_law_referendum
from tests.builders.items import close, make_referendum, question_and_options, vote_referendum
from tests.builders.users import auditor
from tests.factories import VerifiedUserFactory

from .forgeries import add_row, extra_column, remove_row, swap_labels

pytestmark = pytest.mark.django_db

IMMUTABLE = importlib.import_module("participation.migrations.0010_result_immutable")


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def drop_result_triggers():
    """What an insider with owner or superuser rights does first (undone when the test's transaction rolls back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts left deferred foreign-key checks, which DROP TRIGGER refuses to run beside.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("DROP TRIGGER participation_result_immutable ON participation_result")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for statement in IMMUTABLE.SQLITE_ALLOW:
                cursor.execute(statement)


# ---------------------------------------------------------------------------
# The database refuses
# ---------------------------------------------------------------------------


@pytest.fixture
def published():
    referendum, _receipts = new_law_referendum()
    assert referendum.state == State.PUBLISHED
    return referendum, Result.objects.get(item=referendum)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE participation_result SET counts = %s WHERE id = %s",
        "UPDATE participation_result SET ballots = 2 WHERE id = %s",
        "DELETE FROM participation_result WHERE id = %s",
    ],
    ids=["update-counts", "update-ballots", "delete"],
)
def test_raw_sql_cannot_change_or_remove_a_stored_result(published, sql):
    _referendum, result = published
    params = ['{"kind": "referendum", "questions": []}', result.pk] if "%s WHERE" in sql else [result.pk]
    with pytest.raises(DatabaseError, match="immutable"):
        raw(sql, params)
    assert Result.objects.get(pk=result.pk).counts == result.counts


@pytest.mark.postgres
def test_replica_mode_does_not_switch_the_trigger_off(published):
    _referendum, result = published
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE participation_result SET ballots = 2 WHERE id = %s", [result.pk])
    assert Result.objects.get(pk=result.pk).ballots == 3


@pytest.mark.postgres
def test_truncate_is_refused(published):
    raw("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE will not run beside the test's deferred foreign-key checks
    with pytest.raises(DatabaseError, match="immutable"):
        raw("TRUNCATE participation_result")
    assert Result.objects.count() == 1


def test_the_model_refuses_too(published):
    _referendum, result = published
    result.ballots = 2
    with pytest.raises(ValidationError):
        result.save()
    with pytest.raises(ValidationError):
        result.delete()
    assert Result.objects.filter(pk=result.pk, ballots=3).exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_can_still_flush_its_results():
    """tests/conftest.py lifts the guard triggers for the flush after a transactional test, and puts them back."""
    new_law_referendum()
    assert Result.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_triggers_are_back_after_a_transactional_test():
    """Runs after the test above (pytest-django keeps transactional tests in order): the flush left them on."""
    _referendum, _receipts = new_law_referendum()
    result = Result.objects.get()
    with pytest.raises(DatabaseError, match="immutable"):
        raw("DELETE FROM participation_result WHERE id = %s", [result.pk])


# ---------------------------------------------------------------------------
# The tally's entry on the audit trail
# ---------------------------------------------------------------------------


def test_the_tally_records_counts_ballots_eligible_and_digest(published):
    referendum, result = published
    entry = verification.tally_entry(referendum)
    assert entry is not None
    assert entry.action == AuditEntry.Action.TALLY
    assert entry.actor_label == "system"  # counted by the clock, not by whoever asked
    assert entry.details == {
        "ballots": 3,
        "eligible": 3,
        "ballots_digest": result.ballots_digest,
        "counts": {"1": {"1": 1, "2": 1, "0": 1}},
    }
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TALLY).count() == 1


def test_a_poll_tally_is_recorded_per_question_and_option():
    poll, _people = bus_poll()
    assert verification.tally_entry(poll).details["counts"] == {"1": {"1": 1, "2": 1, "0": 1}}


def test_no_result_without_its_audit_entry(monkeypatch):
    """Result and entry are one transaction: if the tally's entry cannot be written, no result is stored."""
    recorded = trail.record

    def refuse_tally(action, **kwargs):
        if action == AuditEntry.Action.TALLY:
            raise DatabaseError("the audit trail is unavailable")
        return recorded(action, **kwargs)

    referendum = make_referendum(options=2, state=State.OPEN)
    _question, (yes, _no) = question_and_options(referendum)
    vote_referendum(VerifiedUserFactory(), referendum, yes)
    close(referendum)
    monkeypatch.setattr(trail, "record", refuse_tally)
    with pytest.raises(DatabaseError):
        counting.tally(referendum.pk)
    assert not Result.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.TALLY).exists()


# ---------------------------------------------------------------------------
# verify_export: the whole file, and the result against the trail
# ---------------------------------------------------------------------------


@pytest.fixture
def ballots_file(client, lang, tmp_path, published):
    client.force_login(auditor())
    referendum, _result = published
    response = client.get(export_url(lang, referendum, "ballots"))
    assert response.status_code == 200
    path = tmp_path / "ballots.csv"
    path.write_bytes(body_of(response))
    return path


def rewrite(path, change):
    """Parse the CSV, let `change(header, rows)` return new ones, write it back as the portal writes it."""
    text = path.read_bytes().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    header, rows = change(header, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def arabic_indic_digits(header, rows):
    return header, [
        [
            *row[:3],
            row[3].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
            row[4].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
            *row[5:],
        ]
        for row in rows
    ]


# An attack, and what verify_export must say about it (exit 1 and MISMATCH, or a refusal naming the fault).
ATTACKS = {
    "swapped-labels": (swap_labels, "is labelled 'لا' / 'No', but it is 'نعم' / 'Yes'"),
    "arabic-indic-digits": (arabic_indic_digits, "is not written in ASCII digits"),
    "extra-column": (extra_column, "is not a ballots export"),
    "removed-row": (remove_row, "the file has 2 ballots, the result counts 3"),
    "added-row": (add_row, "the file has 4 ballots, the result counts 3"),
}


def test_a_genuine_file_is_ok_against_the_result_and_the_trail(ballots_file, published):
    code, out = run_command("verify_export", str(ballots_file))
    assert code == 0, out
    assert f"digest on the audit trail: {published[1].ballots_digest}" in out
    assert "OK: the file matches the published result of referendum new-law and its tally on the audit trail." in out


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_verify_export_catches(ballots_file, attack):
    change, message = ATTACKS[attack]
    rewrite(ballots_file, change)
    try:
        code, out = run_command("verify_export", str(ballots_file))
    except Exception as refusal:  # CommandError: the file is refused outright (exit code 1 from manage.py)
        code, out = 1, f"MISMATCH (refused): {refusal}"
    assert code == 1, out
    assert "MISMATCH" in out
    assert message in out
    assert "OK" not in out


def test_a_result_changed_with_the_trigger_dropped_no_longer_matches_the_trail(ballots_file, published):
    """The insider's attack of issue 9: 1/1/1 becomes 3/0/0 in the Result row, digest and all left alone."""
    _referendum, result = published
    counts = result.counts
    for option in counts["questions"][0]["options"]:
        option["votes"] = 3 if option["position"] == 1 else 0
    drop_result_triggers()
    raw("UPDATE participation_result SET counts = %s WHERE id = %s", [json.dumps(counts), result.pk])
    assert Result.objects.get(pk=result.pk).counts["questions"][0]["options"][0]["votes"] == 3
    code, out = run_command("verify_export", str(ballots_file))
    assert code == 1, out
    assert "question 1, option 1: 1 in the file, 3 in the published result" in out
    assert "the stored result's counts" in out and "differs from the audit trail's" in out


def test_a_result_and_file_changed_together_still_disagree_with_the_trail(ballots_file, published):
    """Forge the file (one Yes made No) and the result to match it: the tally entry still holds the truth."""
    _referendum, result = published

    def yes_to_no(header, rows):
        rows = [list(row) for row in rows]
        first_yes = next(row for row in rows if row[4] == "1")
        first_yes[4:7] = ["2", "لا", "No"]
        return header, rows

    rewrite(ballots_file, yes_to_no)
    from participation.tally import ballots_digest

    lines = sorted(
        (
            f"R|{row[2]}|{int(row[4]):03d}\n"
            for row in csv.reader(io.StringIO(ballots_file.read_bytes().decode("utf-8-sig")))
            if row[0] == "referendum"
        ),
        key=lambda line: line.encode(),
    )
    counts = result.counts
    for option in counts["questions"][0]["options"]:
        option["votes"] = {1: 0, 2: 2, 0: 1}[option["position"]]
    drop_result_triggers()
    raw(
        "UPDATE participation_result SET counts = %s, ballots_digest = %s WHERE id = %s",
        [json.dumps(counts), ballots_digest(lines), result.pk],
    )
    code, out = run_command("verify_export", str(ballots_file))
    assert code == 1, out
    assert "the digest of the file is not the digest recorded on the audit trail at the tally" in out
    assert "question 1, option 2: 2 in the file, 1 in the tally entry on the audit trail" in out
    assert "the digest of the file is not the published ballots digest" not in out  # the forgery fooled the row


def test_an_edited_tally_entry_is_caught_by_its_hash(ballots_file, published):
    referendum, _result = published
    entry = verification.tally_entry(referendum)
    tamper_with_audit_log("UPDATE participation_auditentry SET object_repr = %s WHERE id = %s", ["x", entry.pk])
    code, out = run_command("verify_export", str(ballots_file))
    assert code == 1, out
    assert f"the tally entry {entry.pk} on the audit trail was changed" in out


def test_a_result_without_a_tally_entry_is_not_ok(ballots_file, published):
    remove_audit_entry(verification.tally_entry(published[0]))
    code, out = run_command("verify_export", str(ballots_file))
    assert code == 1, out
    assert "the audit trail has no tally entry for this item" in out


def test_chain_hash_is_what_verify_export_checks():
    """Keep verify_export's single-entry check in step with the chain's recipe."""
    poll, _people = bus_poll()
    entry = verification.tally_entry(poll)
    assert audit.chain_hash(entry.previous_hash, entry) == entry.entry_hash
