"""The audit trail: what is recorded (admin changes, state changes, moderation, exports, staff log-ins),
that it is append-only (model, admin and, on PostgreSQL, the database), that its hash chain shows
tampering (verify_audit_log), and how auditors read it (admin filters, trail.csv)."""

import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from participation import exports
from participation.models import AuditEntry, Comment, Entity, Item, State
from participation.services import counting, lifecycle
from participation.services import trail as audit_trail
from tests.answers import body_of, entries, export_url, message_in, read_dicts, run_command, trail_url
from tests.audit_guards import remove_audit_entry, tamper_object_repr, tamper_with_audit_log
from tests.builders.admin_forms import poll_form
from tests.builders.audit import EARLY_HOURS, MODERATED, QATAR, at, bus_poll, transport_consultation, transport_ministry
from tests.builders.items import make_poll
from tests.builders.users import MINISTRY_ADMINS, MINISTRY_STAFF, MODERATORS, auditor, make_staff
from tests.factories import PASSWORD, EntityFactory, PollFactory, StaffUserFactory, SuperUserFactory, UserFactory

from .conftest import admin_url, as_user

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
ADDRESS = "203.0.113.9"


def only(action, **filters):
    found = entries(action, **filters)
    assert len(found) == 1, f"expected one {action!r} entry, found {found}"
    return found[0]


# ---------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["results", "ballots", "register"])
def test_an_export_download_is_recorded(client, lang, name):
    poll, _people = bus_poll()
    person = auditor()
    client.force_login(person)
    before = timezone.now()
    response = client.get(export_url(lang, poll, name), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    entry = only(Action.EXPORT)
    assert entry.actor == person
    assert entry.actor_label == person.email
    assert entry.ip_address == ADDRESS
    assert (entry.object_type, entry.object_id) == ("participation.item", str(poll.pk))
    assert entry.entity == poll.entity
    assert entry.details == {"export": name}
    assert before <= entry.created_at <= timezone.now()


def test_a_comments_export_is_recorded_under_its_entity(client, lang):
    consultation, _comments, _moderator = transport_consultation()
    client.force_login(auditor())
    client.get(export_url(lang, consultation, "comments"), REMOTE_ADDR=ADDRESS)
    entry = only(Action.EXPORT)
    assert (entry.object_id, entry.entity_id, entry.details) == (
        str(consultation.pk),
        consultation.entity_id,
        {"export": "comments"},
    )


def test_downloading_the_trail_is_recorded(client, lang):
    person = auditor()
    client.force_login(person)
    body_of(client.get(trail_url(lang), REMOTE_ADDR=ADDRESS))
    entry = only(Action.EXPORT)
    assert (entry.actor, entry.ip_address, entry.details) == (person, ADDRESS, {"export": "audit_trail"})


def test_a_refused_download_is_not_recorded_as_an_export(client, lang):
    poll, _people = bus_poll()
    client.force_login(make_staff(MINISTRY_ADMINS, poll.entity))
    assert client.get(export_url(lang, poll, "ballots")).status_code == 403
    assert client.get(trail_url(lang)).status_code == 403
    assert entries(Action.EXPORT) == []


# ---------------------------------------------------------------------------
# Admin: create, change, delete
# ---------------------------------------------------------------------------


def test_creating_an_entity_in_admin_is_recorded(client, lang):
    person = SuperUserFactory()
    response = as_user(client, person, lang).post(
        admin_url("entity_add"),
        {"name_ar": "وزارة البلدية", "name_en": "Ministry of Municipality", "slug": "municipality"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    entity = Entity.objects.get(slug="municipality")
    entry = only(Action.CREATE)
    assert (entry.actor, entry.ip_address, entry.entity) == (person, ADDRESS, entity)
    assert entry.object_repr == ("وزارة البلدية" if lang == "ar" else "Ministry of Municipality")
    assert entry.details["model"] == "participation.entity"
    assert str(entry.details["object_id"]) == str(entity.pk)
    assert json.loads(entry.details["change_message"]) == [{"added": {}}]


def test_creating_a_poll_in_admin_is_recorded(client, lang):
    entity = transport_ministry()
    person = make_staff(MINISTRY_STAFF, entity)
    response = as_user(client, person, lang).post(admin_url("poll_add"), poll_form(entity), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302, response.content.decode()[:2000]
    poll = Item.objects.get(slug="new-poll")
    entry = only(Action.CREATE)
    assert (entry.actor, entry.ip_address, entry.entity) == (person, ADDRESS, entity)
    assert entry.details["model"] == "participation.poll"
    assert str(entry.details["object_id"]) == str(poll.pk)


def test_changing_a_poll_in_admin_records_the_changed_fields(client, lang):
    entity = transport_ministry()
    draft = PollFactory(entity=entity, slug="draft-poll", title_en="Old title")
    person = make_staff(MINISTRY_STAFF, entity)
    form = poll_form(entity, slug="draft-poll", title_en="New title", opens=draft.opens_at, closes=draft.closes_at)
    form["title_ar"] = draft.title_ar
    form["summary_ar"], form["summary_en"], form["body_ar"], form["body_en"] = (
        draft.summary_ar,
        draft.summary_en,
        draft.body_ar,
        draft.body_en,
    )
    response = as_user(client, person, lang).post(admin_url("poll_change", draft.pk), form, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Item.objects.get(pk=draft.pk).title_en == "New title"
    entry = only(Action.CHANGE)
    assert (entry.actor, entry.ip_address, entry.entity) == (person, ADDRESS, entity)
    assert entry.details["model"] in ("participation.poll", "participation.item")
    assert json.loads(entry.details["change_message"]) == [{"changed": {"fields": ["Title (English)"]}}]
    assert "Title (English)" in entry.details["changes"]


def test_deleting_an_entity_in_admin_is_recorded(client, lang):
    person = SuperUserFactory()
    gone = EntityFactory(name_ar="وزارة مؤقتة", name_en="Temporary ministry", slug="temporary")
    response = as_user(client, person, lang).post(
        admin_url("entity_delete", gone.pk), {"post": "yes"}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302
    assert not Entity.objects.filter(slug="temporary").exists()
    entry = only(Action.DELETE)
    assert (entry.actor, entry.ip_address) == (person, ADDRESS)
    assert entry.object_repr == ("وزارة مؤقتة" if lang == "ar" else "Temporary ministry")
    assert entry.details["model"] == "participation.entity"
    assert str(entry.details["object_id"]) == str(gone.pk)


def test_deleting_several_objects_at_once_in_admin_records_each(client, lang):
    """The admin's "Delete selected" logs its deletions with one bulk_create, which sends no post_save."""
    person = SuperUserFactory()
    first = EntityFactory(slug="first-to-go")
    second = EntityFactory(slug="second-to-go")
    response = as_user(client, person, lang).post(
        admin_url("entity_changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    assert not Entity.objects.filter(slug__in=["first-to-go", "second-to-go"]).exists()
    deleted = entries(Action.DELETE)
    assert sorted(str(e.details["object_id"]) for e in deleted) == sorted([str(first.pk), str(second.pk)])
    assert {e.actor for e in deleted} == {person}


# ---------------------------------------------------------------------------
# State changes, moderation, log-ins
# ---------------------------------------------------------------------------


def test_each_state_change_of_an_item_is_recorded():
    poll = make_poll(state=State.DRAFT)
    lifecycle.schedule_item(None, poll)
    lifecycle.open_due_items()
    assert lifecycle.close_item(poll.pk)
    counting.tally_and_publish(poll.pk)  # the worker, after the close
    changes = entries(Action.STATE, object_id=str(poll.pk))
    assert [(e.details["from"], e.details["to"]) for e in changes] == [
        ("draft", "scheduled"),
        ("scheduled", "open"),
        ("open", "closed"),
        ("closed", "published"),
    ]
    assert {(e.actor_id, e.actor_label, e.entity_id) for e in changes} == {(None, "system", poll.entity_id)}


def test_one_item_is_one_object_on_the_trail(client):
    """Filtering the trail by object must find every entry about an item, whichever proxy class
    (Poll, or the Item that exports and the clock jobs load) the code happened to hold."""
    poll = make_poll(state=State.DRAFT)
    lifecycle.schedule_item(None, poll)  # a Poll instance
    lifecycle.open_due_items()  # an Item instance
    client.force_login(auditor())
    lifecycle.close_item(poll.pk)
    counting.tally_and_publish(poll.pk)  # an Item again, in the worker
    body_of(client.get(export_url("en", Item.objects.get(pk=poll.pk), "ballots")))
    about = [e for e in entries() if e.object_id == str(poll.pk) and e.object_type]
    assert len(about) == 6  # scheduled, opened, closed, counted, published, exported
    assert len({e.object_type for e in about}) == 1, {(e.action, e.object_type) for e in about}


def test_a_state_change_from_an_admin_action_names_who_did_it(client, lang):
    entity = transport_ministry()
    draft = make_poll(state=State.DRAFT, entity=entity)
    person = make_staff(MINISTRY_ADMINS, entity)
    response = as_user(client, person, lang).post(
        admin_url("poll_changelist"), {"action": "schedule", "_selected_action": [draft.pk]}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302
    entry = only(Action.STATE)
    assert (entry.actor, entry.ip_address, entry.object_id) == (person, ADDRESS, str(draft.pk))
    assert entry.details == {"from": State.DRAFT, "to": State.SCHEDULED}


def test_closing_by_the_clock_is_recorded():
    poll, _people = bus_poll(tally=False)
    assert lifecycle.close_due_items() == [poll.pk]
    entry = only(Action.STATE, object_id=str(poll.pk))
    assert entry.details == {"from": "open", "to": "closed"}


def test_a_moderation_decision_is_recorded():
    consultation, (published, hidden, _pending), moderator = transport_consultation()
    decisions = entries(Action.MODERATE)
    assert [(e.object_id, e.details["status"], e.details["reason"]) for e in decisions] == [
        (str(published.pk), "published", ""),
        (str(hidden.pk), "hidden", "Not about the draft"),
    ]
    assert {(e.actor_id, e.entity_id, e.object_type) for e in decisions} == {
        (moderator.pk, consultation.entity_id, "participation.comment")
    }
    assert decisions[0].created_at == MODERATED


def test_moderating_in_admin_is_recorded_with_the_address(client, lang):
    consultation, (_published, _hidden, pending), moderator = transport_consultation()
    response = as_user(client, moderator, lang).post(
        admin_url("comment_change", pending.pk),
        {"status": "hidden", "moderation_reason": "Off topic"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    assert Comment.objects.get(pk=pending.pk).status == Comment.Status.HIDDEN
    entry = entries(Action.MODERATE)[-1]
    assert (entry.actor, entry.ip_address, entry.object_id) == (moderator, ADDRESS, str(pending.pk))
    assert entry.details == {"status": "hidden", "reason": "Off topic", "item": consultation.slug}


def test_a_staff_log_in_is_recorded(client, lang):
    person = make_staff(MODERATORS)  # the factory confirms the e-mail address (allauth EmailAddress)
    response = client.post(
        f"/{lang}/accounts/login/", {"login": person.email, "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302
    entry = only(Action.LOGIN)
    assert (entry.actor, entry.actor_label, entry.ip_address, entry.object_repr) == (
        person,
        person.email,
        ADDRESS,
        person.email,
    )


def test_a_staff_log_in_to_admin_is_recorded(client, lang):
    person = StaffUserFactory()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": person.email, "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert response.status_code == 302
    assert only(Action.LOGIN).actor == person


def test_a_citizen_log_in_is_not_recorded(client, lang):
    citizen = UserFactory()
    response = client.post(f"/{lang}/accounts/login/", {"login": citizen.email, "password": PASSWORD})
    assert response.status_code == 302
    assert entries(Action.LOGIN) == []
    assert AuditEntry.objects.count() == 0


def test_a_failed_staff_log_in_is_not_a_log_in(client, lang):
    person = StaffUserFactory()
    response = client.post(f"/{lang}/accounts/login/", {"login": person.email, "password": "wrong"})
    assert response.status_code == 200
    assert entries(Action.LOGIN) == []


# ---------------------------------------------------------------------------
# Append-only
# ---------------------------------------------------------------------------


def test_an_entry_cannot_be_saved_again_or_deleted():
    entry = audit_trail.record(Action.EXPORT, object_repr="something")
    entry.object_repr = "something else"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.object_repr == "something"
    assert run_command("verify_audit_log")[0] == 0


def test_the_chain_cannot_fork():
    first = audit_trail.record(Action.EXPORT, object_repr="first")
    fork = AuditEntry(actor_label="x", action=Action.EXPORT, previous_hash=first.previous_hash, entry_hash="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE participation_auditentry SET object_repr = 'x' WHERE id = %s",
        "DELETE FROM participation_auditentry WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_update_and_delete(statement):
    entry = audit_trail.record(Action.EXPORT, object_repr="kept")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == "kept"


def test_the_database_refuses_queryset_update_and_delete():
    entry = audit_trail.record(Action.EXPORT, object_repr="kept")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk, object_repr="kept").exists()


# ---------------------------------------------------------------------------
# The hash chain and verify_audit_log
# ---------------------------------------------------------------------------


@pytest.fixture
def trail(db):
    """A trail of real entries: states, moderation (Arabic and formula texts), a log-in, exports."""
    bus_poll()
    transport_consultation()
    with at(EARLY_HOURS):
        audit_trail.record(Action.LOGIN, actor=auditor(), object_repr="auditor@audit.example.qa")
    audit_trail.record(Action.EXPORT, object_repr="تصدير", details={"export": "ballots", "n": 1.5})
    return entries()


def test_an_intact_chain_verifies(trail):
    code, out = run_command("verify_audit_log")
    assert code == 0, out
    assert f"OK: {len(trail)} audit entries" in out
    assert trail[0].previous_hash == AuditEntry.GENESIS
    assert all(later.previous_hash == earlier.entry_hash for earlier, later in zip(trail, trail[1:], strict=False))


def test_an_empty_trail_verifies():
    assert run_command("verify_audit_log") == (
        0,
        "OK: 0 audit entries, chain intact, every entry keyed with the audit key.\n",
    )


@pytest.mark.parametrize("position", [0, 3, -1], ids=["first", "middle", "last"])
def test_a_changed_entry_is_found(trail, position):
    target = trail[position]
    tamper_object_repr(target, "x")
    code, out = run_command("verify_audit_log")
    assert code == 1
    assert f"BROKEN at entry {target.pk} " in out
    assert "changed" in out
    assert f"{len(trail[:position]) if position >= 0 else len(trail) - 1} entries before it are intact" in out


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor_label", "someone@else.qa"), ("action", "login"), ("object_id", "999"), ("ip_address", "10.0.0.1")],
)
def test_any_changed_column_is_found(trail, column, value):
    target = trail[2]
    tamper_with_audit_log(f"UPDATE participation_auditentry SET {column} = %s WHERE id = %s", [value, target.pk])  # noqa: S608
    code, out = run_command("verify_audit_log")
    assert (code, f"BROKEN at entry {target.pk} " in out) == (1, True), out


def test_a_removed_entry_is_found_at_the_next_one(trail):
    removed, following = trail[2], trail[3]
    remove_audit_entry(removed)
    code, out = run_command("verify_audit_log")
    assert code == 1
    assert f"BROKEN at entry {following.pk} " in out
    assert "removed" in out


def test_tampering_changes_the_row_and_leaves_the_guard_in_place(trail):
    """Guards the helper: the row really changes, and the triggers are back on afterwards."""
    tamper_object_repr(trail[0], "tampered")
    assert AuditEntry.objects.get(pk=trail[0].pk).object_repr == "tampered"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=trail[1].pk).update(object_repr="y")
    assert AuditEntry.objects.get(pk=trail[1].pk).object_repr == trail[1].object_repr


def test_an_export_from_an_ipv6_address_keeps_the_chain_intact(client, lang):
    """REMOTE_ADDR as a server may give it (not in the compressed lower-case form the database keeps)."""
    poll, _people = bus_poll()
    client.force_login(auditor())
    client.get(export_url(lang, poll, "ballots"), REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")
    assert only(Action.EXPORT).ip_address == "2001:db8::1"
    code, out = run_command("verify_audit_log")
    assert code == 0, out


def test_an_audit_entry_from_a_request_from_an_ipv4_address_verifies(client, lang):
    poll, _people = bus_poll()
    client.force_login(auditor())
    client.get(export_url(lang, poll, "results"), REMOTE_ADDR=ADDRESS)
    assert run_command("verify_audit_log")[0] == 0


# ---------------------------------------------------------------------------
# Auditors read the trail in admin
# ---------------------------------------------------------------------------


def changelist(client, query=""):
    response = client.get(admin_url("auditentry_changelist") + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_auditors_read_and_filter_the_trail_in_admin(client, lang, trail):
    person = auditor()
    client = as_user(client, person, lang)  # force_login itself adds a log-in entry
    everything = changelist(client)
    assert {e.pk for e in everything} == set(AuditEntry.objects.values_list("pk", flat=True))
    response = client.get(admin_url("auditentry_changelist"))
    assert message_in(lang, "State changed") in response.content.decode()

    assert {e.action for e in changelist(client, "?action=moderate")} == {"moderate"}
    assert len(changelist(client, "?action=moderate")) == 2

    entity = transport_ministry()
    filtered = changelist(client, f"?entity__id__exact={entity.pk}")
    assert filtered and {e.entity_id for e in filtered} == {entity.pk}
    assert len(filtered) == AuditEntry.objects.filter(entity=entity).count()

    moderator = Comment.objects.exclude(moderated_by=None).first().moderated_by
    assert {e.actor_id for e in changelist(client, f"?actor__id__exact={moderator.pk}")} == {moderator.pk}


def test_the_date_filters_use_the_qatar_day(client, lang, trail):
    client = as_user(client, auditor(), lang)
    # 01:30 on 11 March in Doha is 22:30 on 10 March in UTC.
    early = [e for e in trail if e.created_at == EARLY_HOURS]
    assert len(early) == 1
    day_11 = changelist(client, "?created_at__year=2026&created_at__month=3&created_at__day=11")
    assert [e.pk for e in day_11] == [early[0].pk]
    assert changelist(client, "?created_at__year=2026&created_at__month=3&created_at__day=10") == []
    day_12 = changelist(client, "?created_at__year=2026&created_at__month=3&created_at__day=12")
    assert {e.action for e in day_12} == {"moderate"}


def test_nobody_adds_changes_or_deletes_entries_in_admin(client, lang, trail):
    for person in (auditor(), SuperUserFactory()):
        client = as_user(client, person, lang)
        target = trail[1]
        assert client.get(admin_url("auditentry_add")).status_code == 403
        assert client.post(admin_url("auditentry_add"), {"actor_label": "x", "action": "login"}).status_code == 403
        view = client.get(admin_url("auditentry_change", target.pk))
        assert view.status_code == 200  # read only
        assert 'name="_save"' not in view.content.decode()
        assert client.post(admin_url("auditentry_change", target.pk), {"object_repr": "x"}).status_code == 403
        assert client.get(admin_url("auditentry_delete", target.pk)).status_code == 403
        assert client.post(admin_url("auditentry_delete", target.pk), {"post": "yes"}).status_code == 403
        client.post(
            admin_url("auditentry_changelist"),
            {"action": "delete_selected", "_selected_action": [e.pk for e in trail], "post": "yes"},
        )
    assert set(AuditEntry.objects.values_list("pk", flat=True)) >= {e.pk for e in trail}
    assert AuditEntry.objects.get(pk=trail[1].pk).object_repr == trail[1].object_repr
    assert run_command("verify_audit_log")[0] == 0


def test_ministry_staff_cannot_read_the_trail(client, lang, trail):
    entity = transport_ministry()
    for group in (MINISTRY_STAFF, MINISTRY_ADMINS, MODERATORS):
        client = as_user(client, make_staff(group, entity), lang)
        assert client.get(admin_url("auditentry_changelist")).status_code == 403, group


# ---------------------------------------------------------------------------
# trail.csv
# ---------------------------------------------------------------------------

TRAIL_HEADER = [
    "id",
    "created_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "entity",
    "ip_address",
    "details",
    "previous_hash",
    "entry_hash",
]


def trail_rows(client, lang, query=""):
    response = client.get(trail_url(lang) + query)
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Disposition"] == 'attachment; filename="audit-trail.csv"'
    data = body_of(response)
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(TRAIL_HEADER).encode() + b"\r\n")
    return read_dicts(data)


def test_the_trail_csv_has_every_entry_in_order(client, lang, trail):
    client.force_login(auditor())
    rows = trail_rows(client, lang)
    stored = entries()
    assert [row["id"] for row in rows] == [str(e.pk) for e in stored]
    for row, entry in zip(rows, stored, strict=True):
        assert row["created_at"] == timezone.localtime(entry.created_at, QATAR).isoformat()
        assert row["created_at"].endswith("+03:00")
        assert (row["previous_hash"], row["entry_hash"]) == (entry.previous_hash, entry.entry_hash)
        assert row["action"] == entry.action
        assert json.loads(row["details"]) == entry.details
    early = next(row for row in rows if row["id"] == str(next(e.pk for e in trail if e.created_at == EARLY_HOURS)))
    assert early["created_at"] == "2026-03-11T01:30:00+03:00"
    assert early["actor"] == "auditor@audit.example.qa"
    hidden = next(row for row in rows if row["action"] == "moderate" and "hidden" in row["details"])
    assert hidden["object"] == "'=1+1"  # the comment's text, neutralised
    assert hidden["entity"] == "transport"
    assert any(row["object"] == "تصدير" for row in rows)


def test_the_trail_csv_filters_by_action_and_entity(client, lang, trail):
    client.force_login(auditor())
    moderations = trail_rows(client, lang, "?action=moderate")
    assert [row["action"] for row in moderations] == ["moderate", "moderate"]
    other = EntityFactory(slug="elsewhere")
    audit_trail.record(Action.STATE, entity=other, object_repr="elsewhere")
    transport = trail_rows(client, lang, "?entity=transport")
    assert transport and {row["entity"] for row in transport} == {"transport"}
    assert [row["object"] for row in trail_rows(client, lang, "?entity=elsewhere")] == ["elsewhere"]


def test_the_trail_csv_neutralises_formulas(client, lang):
    client.force_login(auditor())
    for text in ("=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        audit_trail.record(Action.CHANGE, object_repr=text)
    objects = [row["object"] for row in trail_rows(client, lang, "?action=change")]
    assert objects == ["'=cmd|' /C calc'!A0", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx"]


def test_the_trail_csv_timestamps_carry_the_offset(client, lang):
    client.force_login(auditor())
    with at(datetime(2026, 6, 30, 21, 15, 30, tzinfo=UTC)):
        audit_trail.record(Action.STATE, object_repr="late")
    row = trail_rows(client, lang, "?action=state")[0]
    assert row["created_at"] == "2026-07-01T00:15:30+03:00"


def test_the_trail_csv_is_streamed_in_chunks(client, lang, monkeypatch):
    client.force_login(auditor())
    for n in range(7):
        audit_trail.record(Action.CHANGE, object_repr=f"entry {n}")
    monkeypatch.setattr(exports, "CHUNK_ROWS", 3)
    response = client.get(trail_url(lang))
    chunks = list(response.streaming_content)
    assert b"".join(chunks).count(b"\r\n") == 1 + 7 + 2  # header, these, the log-in and the download itself
    assert len(chunks) > 2


def test_the_trail_can_be_downloaded_twice_without_breaking_the_chain(client, lang, trail):
    client.force_login(auditor())
    trail_rows(client, lang)
    trail_rows(client, lang)
    assert len(entries(Action.EXPORT)) == 2 + 1  # the fixture's own export entry
    assert run_command("verify_audit_log")[0] == 0
