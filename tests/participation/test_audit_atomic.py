"""One transaction for a change and its record (issue 9, part 7).

Every state change, moderation, verification change and tally is written in the same transaction
as its audit entry: when the entry cannot be written (trail.record raises), the change is not in
the database either. And each entry names who acted: the staff member, or "system" for the clock.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.urls import reverse
from django.utils import timezone

from accounts.models import Segment, User
from participation import audit
from participation.models import AuditEntry, Comment, Entity, Item, Result, State
from participation.services import lifecycle, moderation, trail
from participation.services.counting import tally
from tests.answers import entries
from tests.builders.audit import bus_poll, transport_consultation, transport_ministry
from tests.builders.items import make_poll
from tests.builders.users import MINISTRY_ADMINS, make_staff
from tests.factories import EntityFactory, SuperUserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action


class TrailDown(Exception):
    """The audit trail could not be written (a full disk, a lost connection, a guard that refused)."""


@pytest.fixture
def trail_fails(monkeypatch):
    """Make trail.record raise, for every entry or for the ones `when(action, kwargs)` picks."""
    real = trail.record

    def fail(when=lambda action, kwargs: True):
        def record(action, **kwargs):
            if when(action, kwargs):
                raise TrailDown(action)
            return real(action, **kwargs)

        monkeypatch.setattr(trail, "record", record)

    return fail


def state_of(item):
    return Item.objects.get(pk=item.pk).state


# ---------------------------------------------------------------------------
# If the entry fails, the change is not written
# ---------------------------------------------------------------------------


def test_scheduling_is_not_written_without_its_entry(trail_fails):
    draft = make_poll(state=State.DRAFT)
    trail_fails()
    with pytest.raises(TrailDown):
        lifecycle.schedule_item(None, draft)
    assert state_of(draft) == State.DRAFT


def test_opening_by_the_clock_is_not_written_without_its_entry(trail_fails):
    poll = make_poll(opens_at=timezone.now() - timedelta(hours=1))
    assert state_of(poll) == State.SCHEDULED
    trail_fails()
    with pytest.raises(TrailDown):
        lifecycle.open_due_items()
    assert state_of(poll) == State.SCHEDULED


def test_closing_by_the_clock_is_not_written_without_its_entry(trail_fails):
    poll, _people = bus_poll(tally=False)
    trail_fails()
    with pytest.raises(TrailDown):
        lifecycle.close_due_items()
    assert state_of(poll) == State.OPEN


def test_closing_now_is_not_written_without_its_entry(trail_fails):
    poll, _people = bus_poll(tally=False)
    trail_fails()
    with pytest.raises(TrailDown):
        lifecycle.close_item(poll.pk)
    assert state_of(poll) == State.OPEN


def test_a_moderation_is_not_written_without_its_entry(trail_fails):
    _consultation, (_published, _hidden, pending), moderator = transport_consultation()
    trail_fails()
    with pytest.raises(TrailDown):
        moderation.moderate_comment(moderator, Comment.objects.get(pk=pending.pk), approve=False, reason="Off topic")
    assert Comment.objects.filter(pk=pending.pk).values_list("status", "moderated_by").get() == (
        Comment.Status.PENDING,
        None,
    )


def test_a_tally_is_not_written_without_its_entry(trail_fails):
    poll, _people = bus_poll(tally=False)
    trail_fails(lambda action, kwargs: action == Action.TALLY)
    with pytest.raises(TrailDown):
        tally(poll.pk)
    assert not Result.objects.filter(item=poll).exists()
    assert state_of(poll) == State.OPEN  # the close on the way is undone too
    assert entries(Action.STATE) == []


def test_publishing_is_not_written_without_its_entry(trail_fails):
    poll, _people = bus_poll(tally=False)
    tally(poll.pk)  # the worker's count; publishing never counts
    before = AuditEntry.objects.count()
    trail_fails(lambda action, kwargs: (kwargs.get("details") or {}).get("to") == State.PUBLISHED)
    with pytest.raises(TrailDown):
        lifecycle.publish_results(None, Item.objects.get(pk=poll.pk))
    assert state_of(poll) == State.CLOSED
    assert AuditEntry.objects.count() == before


@pytest.fixture
def user_admin():
    return admin.site._registry[User]


def admin_request(rf, person):
    request = rf.post("/admin/accounts/user/")
    request.user = person
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_verification_is_not_written_without_its_entry(trail_fails, user_admin, rf):
    citizen = VerifiedUserFactory(segment=Segment.CITIZEN)
    User.objects.filter(pk=citizen.pk).update(
        verification=User.Verification.UNVERIFIED, verification_method="", verified_at=None
    )
    trail_fails()
    with pytest.raises(TrailDown):
        user_admin.verify_identity(admin_request(rf, SuperUserFactory()), User.objects.filter(pk=citizen.pk))
    assert not User.objects.get(pk=citizen.pk).is_verified


def test_a_verification_reset_is_not_written_without_its_entry(trail_fails, user_admin, rf):
    people = [VerifiedUserFactory(), VerifiedUserFactory()]
    trail_fails()
    with pytest.raises(TrailDown):
        user_admin.reset_identity_verification(
            admin_request(rf, SuperUserFactory()), User.objects.filter(pk__in=[p.pk for p in people])
        )
    assert User.objects.filter(pk__in=[p.pk for p in people], verification=User.Verification.VERIFIED).count() == 2


def user_change_form(client, person, **changes):
    response = client.get(reverse("admin:accounts_user_change", args=[person.pk]))
    form = response.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
            **changes,
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    return data


def test_a_reset_by_a_changed_identity_is_not_written_without_its_entry(trail_fails, client):
    staff = SuperUserFactory()
    person = VerifiedUserFactory(segment=Segment.CITIZEN)
    client.force_login(staff)
    data = user_change_form(client, person, identity_number="29063400099")
    trail_fails(lambda action, kwargs: kwargs.get("obj") == person)
    with pytest.raises(TrailDown):
        client.post(reverse("admin:accounts_user_change", args=[person.pk]), data)
    person.refresh_from_db()
    assert person.is_verified
    assert person.identity_number != "29063400099"


# ---------------------------------------------------------------------------
# Each entry names who acted
# ---------------------------------------------------------------------------


def test_a_reset_in_admin_names_the_staff_member(client, lang):
    staff = SuperUserFactory()
    people = [VerifiedUserFactory(), VerifiedUserFactory()]
    client.force_login(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_identity_verification", "_selected_action": [p.pk for p in people]},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[p.pk for p in people], verification=User.Verification.VERIFIED).exists()
    resets = entries(Action.CHANGE, object_type="accounts.user")
    assert sorted(e.object_id for e in resets) == sorted(str(p.pk) for p in people)
    for entry in resets:
        assert (entry.actor, entry.actor_label, entry.ip_address) == (staff, staff.email, "203.0.113.9")
        assert entry.details["verification"] == {"from": "verified", "to": "unverified"}
        assert entry.details["reason"] == "reset by staff"


def test_a_reset_by_a_changed_identity_names_the_staff_member(client):
    staff = SuperUserFactory()
    person = VerifiedUserFactory(segment=Segment.CITIZEN)
    client.force_login(staff)
    data = user_change_form(client, person, identity_number="29063400099")
    response = client.post(reverse("admin:accounts_user_change", args=[person.pk]), data)
    assert response.status_code == 302
    (reset,) = [e for e in entries(Action.CHANGE, object_id=str(person.pk)) if "verification" in e.details]
    assert reset.actor == staff
    assert reset.details["verification"] == {"from": "verified", "to": "unverified"}


def test_a_reset_of_someone_unverified_writes_nothing(client):
    staff = SuperUserFactory()
    person = VerifiedUserFactory()
    User.objects.filter(pk=person.pk).update(
        verification=User.Verification.UNVERIFIED, verification_method="", verified_at=None
    )
    client.force_login(staff)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_identity_verification", "_selected_action": [person.pk]},
    )
    assert entries(Action.CHANGE, object_type="accounts.user") == []


def test_the_lifecycle_in_admin_names_the_staff_member(client, lang):
    entity = transport_ministry()
    person = make_staff(MINISTRY_ADMINS, entity)
    draft = make_poll(state=State.DRAFT, entity=entity, opens_at=timezone.now() - timedelta(hours=1))
    client.force_login(person)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    changelist = reverse("admin:participation_poll_changelist")
    for action in ("schedule", "close_now"):
        assert client.post(changelist, {"action": action, "_selected_action": [draft.pk]}).status_code == 302
    with audit.as_system():
        tally(draft.pk)  # the worker's count, queued by the close
    assert client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]}).status_code == 302
    assert state_of(draft) == State.PUBLISHED
    about = [e for e in entries() if e.action in (Action.STATE, Action.TALLY) and e.entity_id == entity.pk]
    assert [(e.action, e.details.get("to")) for e in about] == [
        (Action.STATE, State.SCHEDULED),
        (Action.STATE, State.CLOSED),
        (Action.TALLY, None),
        (Action.STATE, State.PUBLISHED),
    ]
    assert [e.actor for e in about] == [person, person, None, person]
    result = Result.objects.get(item=draft)
    assert about[2].details["ballots_digest"] == result.ballots_digest


def test_the_worker_tally_is_recorded_as_the_system():
    poll, _people = bus_poll()  # tallied and published by tally_and_publish, as the worker does
    result = Result.objects.get(item=poll)
    (tally_entry,) = entries(Action.TALLY)
    assert (tally_entry.actor, tally_entry.actor_label, tally_entry.entity_id) == (None, "system", poll.entity_id)
    assert (tally_entry.details["ballots"], tally_entry.details["ballots_digest"]) == (3, result.ballots_digest)


def test_a_moderation_in_admin_names_the_moderator(client, lang):
    consultation, (_published, _hidden, pending), moderator = transport_consultation()
    client.force_login(moderator)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    response = client.post(
        reverse("admin:participation_comment_change", args=[pending.pk]),
        {"status": "published", "moderation_reason": ""},
    )
    assert response.status_code == 302
    entry = entries(Action.MODERATE)[-1]
    assert (entry.actor, entry.object_id, entry.details["status"]) == (moderator, str(pending.pk), "published")


def test_a_refused_delete_selected_leaves_no_entry(client, monkeypatch):
    """Django's "delete selected" logs first and deletes second; a deletion that fails takes its entries with it."""
    doomed = [EntityFactory(), EntityFactory()]
    client.force_login(SuperUserFactory())
    before = AuditEntry.objects.count()

    def refuse(self, request, queryset):
        raise TrailDown("the database refused the deletion")

    monkeypatch.setattr(admin.ModelAdmin, "delete_queryset", refuse)
    with pytest.raises(TrailDown):
        client.post(
            reverse("admin:participation_entity_changelist"),
            {"action": "delete_selected", "_selected_action": [e.pk for e in doomed], "post": "yes"},
        )
    assert Entity.objects.filter(pk__in=[e.pk for e in doomed]).count() == 2
    assert AuditEntry.objects.count() == before
