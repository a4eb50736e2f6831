"""The audit trail anchored outside the database (issue 9, part 5).

Keyed entries (HMAC-SHA256 with the audit key from the environment), database guards against
TRUNCATE, UPDATE and DELETE that replica mode does not switch off, and checkpoints (chain length
and head hash) published where outsiders keep them: the public checkpoint page and its JSON, every
export's .sha256 companion and every results page. The attack tests replay issue 9's three attacks
with full SQL access; each is refused by the database or caught by verify_audit_log with a
checkpoint taken before it, also when the attacker has first dropped the triggers.
"""

import hashlib
import hmac
import json
import re
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from participation import audit
from participation.models import AuditEntry
from participation.services import trail as audit_trail
from tests.answers import body_of, export_url, message_in, run_command, sha256_url
from tests.audit_guards import AUDIT_TABLE
from tests.builders.audit import bus_poll
from tests.builders.users import auditor

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
WRONG_KEY = b"an attacker's guess at the key..."
CHECKPOINT_IN_TEXT = re.compile(r"\b([0-9]+:[0-9a-f]{64})\b")


@pytest.fixture
def trail(db):
    """Ten entries with Arabic text, a formula, an address and nested details."""
    for n in range(10):
        audit_trail.record(
            Action.EXPORT if n % 2 else Action.CHANGE,
            object_repr=f"تصدير {n}" if n % 3 else f"=SUM({n})",
            details={"n": n, "nested": {"list": [n, "x"]}},
        )
    return list(AuditEntry.objects.order_by("pk"))


def rows():
    """What the trail holds, column by column (model instances compare by primary key only)."""
    return list(AuditEntry.objects.order_by("pk").values_list("pk", "object_repr", "previous_hash", "entry_hash"))


def verify(*checkpoints):
    args = [f"--checkpoint={point}" for point in checkpoints]
    return run_command("verify_audit_log", *args)


# ---------------------------------------------------------------------------
# The key
# ---------------------------------------------------------------------------


def test_each_entry_hash_is_the_documented_hmac(trail):
    """docs/audit.md's recipe, computed here from scratch with the standard library."""
    previous = AuditEntry.GENESIS
    for entry in trail:
        fields = {
            "created_at": entry.created_at.isoformat(),
            "actor_id": entry.actor_id,
            "actor_label": entry.actor_label,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "object_repr": entry.object_repr,
            "entity_id": entry.entity_id,
            "details": entry.details,
            "ip_address": entry.ip_address,
        }
        message = previous + "\n" + json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        expected = hmac.new(settings.AUDIT_HMAC_KEY, message.encode(), hashlib.sha256).hexdigest()
        assert (entry.previous_hash, entry.entry_hash) == (previous, expected)
        assert entry.entry_hash != hashlib.sha256(message.encode()).hexdigest()
        previous = entry.entry_hash


def test_the_trail_does_not_verify_under_another_key(trail, settings):
    settings.AUDIT_HMAC_KEY = WRONG_KEY
    code, out = verify()
    assert code == 1
    assert f"BROKEN at entry {trail[0].pk} " in out
    assert "audit key" in out


# ---------------------------------------------------------------------------
# verify_audit_log --checkpoint
# ---------------------------------------------------------------------------


def test_checkpoints_of_an_intact_trail_verify(trail):
    early = audit.Checkpoint(4, trail[3].entry_hash)
    now = audit.checkpoint()
    assert (now.count, now.head) == (10, trail[-1].entry_hash)
    code, out = verify(early, now, audit.Checkpoint(0, AuditEntry.GENESIS))
    assert code == 0, out
    assert f"Checkpoint {early}: OK" in out
    assert f"Checkpoint {now}: OK" in out


def test_a_checkpoint_with_another_hash_fails(trail):
    code, out = verify(audit.Checkpoint(4, trail[4].entry_hash))
    assert code == 1
    assert "REWRITTEN" in out


def test_a_checkpoint_beyond_the_end_fails(trail):
    code, out = verify(audit.Checkpoint(11, "a" * 64))
    assert code == 1
    assert "TRUNCATED" in out
    assert "it now has 10" in out
    assert out.rstrip().endswith("FAILED: the audit trail does not verify (see above).")


@pytest.mark.parametrize("text", ["10", "10:xyz", "ten:" + "a" * 64, "-1:" + "a" * 64, "10:" + "a" * 63])
def test_a_malformed_checkpoint_is_refused(trail, text):
    with pytest.raises(CommandError, match="COUNT:HASH"):
        verify(text)


def test_an_empty_trails_checkpoint_must_be_the_genesis(trail):
    assert verify(audit.Checkpoint(0, "a" * 64))[0] == 1


def test_the_checkpoint_is_read_in_one_statement(trail, django_assert_num_queries):
    with django_assert_num_queries(1):
        audit.checkpoint()


def test_an_empty_trails_checkpoint(db):
    point = audit.checkpoint()
    assert (point.count, point.head) == (0, AuditEntry.GENESIS)


# ---------------------------------------------------------------------------
# The attacks of issue 9, with full SQL access
# ---------------------------------------------------------------------------


def _sha256(previous, entry):
    return hashlib.sha256(f"{previous}\n{audit.canonical(entry)}".encode()).hexdigest()


def _wrong_key(previous, entry):
    return audit.chain_hash(previous, entry, key=WRONG_KEY)


def _right_key(previous, entry):
    """An attacker who also holds the application's secrets (the last row of docs/secrecy.md)."""
    return audit.chain_hash(previous, entry)


def _execute(cursor, sql, params=None):
    cursor.execute(sql, params)


def truncate(cursor):
    if connection.vendor == "postgresql":
        _execute(cursor, f"TRUNCATE {AUDIT_TABLE}")
    else:  # SQLite has no TRUNCATE; this is its equivalent
        _execute(cursor, f"DELETE FROM {AUDIT_TABLE}")  # noqa: S608


def delete_the_tail(cursor, rows=3):
    _execute(
        cursor,
        f"DELETE FROM {AUDIT_TABLE} WHERE id IN (SELECT id FROM {AUDIT_TABLE} ORDER BY id DESC LIMIT %s)",  # noqa: S608
        [rows],
    )


def rewriter(recompute):
    """Change entry 3's text, then write every hash from there on again with `recompute`."""

    def rewrite(cursor):
        _execute(cursor, f"UPDATE {AUDIT_TABLE} SET object_repr = %s WHERE id = %s", ["nothing happened", TARGET[0]])  # noqa: S608
        entries = list(AuditEntry.objects.order_by("pk"))
        previous = AuditEntry.GENESIS
        for entry in entries:
            if entry.pk >= TARGET[0]:
                new_hash = recompute(previous, entry)
                _execute(
                    cursor,
                    f"UPDATE {AUDIT_TABLE} SET previous_hash = %s, entry_hash = %s WHERE id = %s",  # noqa: S608
                    [previous, new_hash, entry.pk],
                )
                previous = new_hash
            else:
                previous = entry.entry_hash

    return rewrite


TARGET = [None]  # the pk of the entry the rewrites change (set by the fixture)

ATTACKS = {
    "truncate": truncate,
    "delete-tail": delete_the_tail,
    "rewrite-sha256": rewriter(_sha256),
    "rewrite-wrong-key": rewriter(_wrong_key),
}


def _pending_checks_now(cursor):
    if connection.vendor == "postgresql":
        # Deferred foreign-key checks of this test's inserts are "pending trigger events", which
        # ALTER TABLE, DROP TRIGGER and TRUNCATE refuse to run beside: check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def drop_the_guards(cursor):
    """What a database superuser can do first: drop every trigger on the audit table."""
    _pending_checks_now(cursor)
    if connection.vendor == "postgresql":
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [AUDIT_TABLE])
        names = [name for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f"DROP TRIGGER {name} ON {AUDIT_TABLE}")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [AUDIT_TABLE])
        names = [name for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f"DROP TRIGGER {name}")
    assert names, "the audit table has no triggers to drop"


@pytest.fixture
def attacked_trail(trail):
    TARGET[0] = trail[3].pk
    yield rows()
    TARGET[0] = None


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_the_database_refuses_each_attack(attacked_trail, attack):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        _pending_checks_now(cursor)
        attack(cursor)
    assert rows() == attacked_trail
    assert verify(audit.checkpoint())[0] == 0


@pytest.mark.postgres
@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_replica_mode_does_not_switch_the_guards_off(attacked_trail, attack):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        _pending_checks_now(cursor)
        cursor.execute("SET LOCAL session_replication_role = replica")
        attack(cursor)
    assert rows() == attacked_trail


@pytest.mark.postgres
def test_the_guards_are_enabled_always():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled, tgtype & 1 = 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
            "ORDER BY tgname",
            [AUDIT_TABLE],
        )
        triggers = cursor.fetchall()
    assert triggers == [
        ("participation_auditentry_append_only", "A", True),  # FOR EACH ROW
        ("participation_auditentry_no_truncate", "A", False),  # FOR EACH STATEMENT
    ]


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_verify_audit_log_catches_each_attack_after_the_guards_are_dropped(attacked_trail, attack):
    kept = audit.checkpoint()  # what an outsider kept before the attack
    with transaction.atomic(), connection.cursor() as cursor:
        drop_the_guards(cursor)
        attack(cursor)
    assert rows() != attacked_trail, "the attack did not change the trail"
    code, out = verify(kept)
    assert code == 1, out
    assert f"Checkpoint {kept}: OK" not in out


def test_without_a_checkpoint_a_truncated_trail_looks_intact(attacked_trail):
    """Why checkpoints must be kept outside: an empty or shortened trail is a valid chain."""
    kept = audit.checkpoint()
    with transaction.atomic(), connection.cursor() as cursor:
        drop_the_guards(cursor)
        delete_the_tail(cursor)
    assert verify()[0] == 0
    code, out = verify(kept)
    assert code == 1
    assert "TRUNCATED" in out
    assert "3 entries at the end were removed" in out


@pytest.mark.parametrize("recompute", [_sha256, _wrong_key], ids=["sha256", "wrong-key"])
def test_a_rewritten_chain_is_caught_by_the_key_alone(attacked_trail, recompute):
    with transaction.atomic(), connection.cursor() as cursor:
        drop_the_guards(cursor)
        rewriter(recompute)(cursor)
    code, out = verify()
    assert code == 1
    assert f"BROKEN at entry {TARGET[0]} " in out
    assert "audit key" in out


def test_a_rewrite_with_the_stolen_key_is_caught_by_the_checkpoint(attacked_trail):
    kept = audit.checkpoint()
    with transaction.atomic(), connection.cursor() as cursor:
        drop_the_guards(cursor)
        rewriter(_right_key)(cursor)
    assert verify()[0] == 0  # the key alone cannot tell: whoever holds it can sign anything
    code, out = verify(kept)
    assert code == 1
    assert f"REWRITTEN: checkpoint {kept} does not match" in out


def test_the_attacker_drops_the_guards_for_good(attacked_trail):
    """Sanity check of the attack helper: after it, the database no longer refuses."""
    with transaction.atomic(), connection.cursor() as cursor:
        drop_the_guards(cursor)
        cursor.execute(f"UPDATE {AUDIT_TABLE} SET object_repr = 'x' WHERE id = %s", [TARGET[0]])  # noqa: S608
    assert AuditEntry.objects.get(pk=TARGET[0]).object_repr == "x"


# ---------------------------------------------------------------------------
# Where checkpoints are published
# ---------------------------------------------------------------------------


def test_the_checkpoint_page_is_public(client, lang, trail):
    response = client.get(f"/{lang}/audit/checkpoint/")
    assert response.status_code == 200
    html = response.content.decode()
    point = audit.checkpoint()
    assert str(point) in html
    assert f"python manage.py verify_audit_log --checkpoint {point}" in html
    assert message_in(lang, "Audit trail checkpoint") in html
    assert message_in(lang, "How to use it") in html
    assert reverse("participation:audit_checkpoint_json") in html
    assert f'lang="{lang}"' in html


def test_the_checkpoint_json_is_public(client, lang, trail):
    response = client.get(f"/{lang}/audit/checkpoint.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    point = audit.checkpoint()
    assert (data["count"], data["head"], data["checkpoint"]) == (10, trail[-1].entry_hash, str(point))
    assert data["verify"] == f"python manage.py verify_audit_log --checkpoint {point}"
    assert data["taken_at"]
    assert verify(data["checkpoint"])[0] == 0


def test_the_published_checkpoint_is_cached_briefly(client, trail, django_assert_num_queries):
    client.get("/en/audit/checkpoint.json")
    audit_trail.record(Action.CHANGE, object_repr="later")
    with django_assert_num_queries(0):
        stale = client.get("/en/audit/checkpoint.json").json()
    assert stale["count"] == 10  # still a true checkpoint: the trail passed through it
    assert verify(stale["checkpoint"])[0] == 0


def test_every_results_page_shows_the_checkpoint(client, lang):
    poll, _people = bus_poll()
    response = client.get(f"/{lang}/polls/{poll.slug}/results/")
    assert response.status_code == 200
    html = response.content.decode()
    shown = CHECKPOINT_IN_TEXT.findall(html)
    assert len(shown) == 1
    assert shown[0] == str(audit.checkpoint())
    assert f'href="{reverse("participation:audit_checkpoint")}"' in html
    assert message_in(lang, "What is this?") in html
    assert verify(shown[0])[0] == 0


def test_the_checkpoint_on_the_audit_index_links_the_page(client, lang):
    client.force_login(auditor())
    html = client.get(f"/{lang}/audit/").content.decode()
    assert f'href="{reverse("participation:audit_checkpoint")}"' in html


@pytest.mark.parametrize("name", ["results", "ballots"])
def test_the_sha256_companion_carries_a_checkpoint_and_still_checks(client, lang, tmp_path, name):
    sha256sum = shutil.which("sha256sum")
    if sha256sum is None:
        pytest.skip("needs GNU coreutils' sha256sum")
    poll, _people = bus_poll()
    client.force_login(auditor())
    data = body_of(client.get(export_url(lang, poll, name)))
    companion = client.get(sha256_url(lang, poll, name)).content.decode()
    filename = f"poll-{poll.slug}-{name}.csv"
    (tmp_path / filename).write_bytes(data)
    (tmp_path / f"{filename}.sha256").write_text(companion, encoding="utf-8")

    for strict in ([], ["--strict"]):
        checked = subprocess.run(  # noqa: S603
            [sha256sum, "-c", *strict, f"{filename}.sha256"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout == f"{filename}: OK\n"
        assert "improperly formatted" not in checked.stderr

    (point,) = re.findall(r"^# audit-checkpoint: (\S+)$", companion, flags=re.MULTILINE)
    assert verify(point)[0] == 0
    assert audit.Checkpoint.parse(point).count == AuditEntry.objects.count()

    (tmp_path / filename).write_bytes(data.replace(b"\r\n", b"\n", 1))
    changed = subprocess.run(  # noqa: S603
        [sha256sum, "-c", f"{filename}.sha256"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert changed.returncode == 1
