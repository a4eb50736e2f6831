"""Who may download exports (auditors and superusers; everyone else 403), and auditors' read-only admin.

The matrix: anonymous, a citizen, the four staff groups (members of the items' entity, so that
"their own ministry" gives no export right) and a superuser, against every export address.
"""

import pytest
from django.contrib.auth.models import Permission

from participation.models import AuditEntry, Comment, Entity, Item, Result
from tests.answers import body_of, export_url, index_url, message_in, sha256_url, trail_url
from tests.builders.audit import bus_poll, new_law_referendum, transport_consultation, transport_ministry
from tests.builders.users import (
    ANONYMOUS,
    AUDITORS,
    CITIZEN,
    MAY_EXPORT,
    MINISTRY_ADMINS,
    ROLES,
    auditor,
    make_staff,
    user_for_role,
)
from tests.factories import EntityFactory

from .conftest import admin_url, as_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(db):
    poll, _people = bus_poll()
    referendum, _receipts = new_law_referendum()
    consultation, _comments, _moderator = transport_consultation()
    return poll, referendum, consultation


def every_export_address(lang, poll, referendum, consultation):
    return [
        export_url(lang, poll, "results"),
        export_url(lang, poll, "ballots"),
        export_url(lang, poll, "register"),
        export_url(lang, referendum, "results"),
        export_url(lang, referendum, "ballots"),
        export_url(lang, referendum, "register"),
        export_url(lang, consultation, "comments"),
        sha256_url(lang, poll, "ballots"),
        sha256_url(lang, referendum, "register"),
        sha256_url(lang, consultation, "comments"),
        trail_url(lang),
        index_url(lang),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_only_auditors_and_superusers_may_export(client, lang, items, role):
    person = user_for_role(role, transport_ministry())
    if person is not None:
        client.force_login(person)
    exports_before = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    expected = 200 if role in MAY_EXPORT else 403
    wrong = {}
    for address in every_export_address(lang, *items):
        response = client.get(address)
        body = body_of(response)
        if response.status_code != expected:
            wrong[address] = response.status_code
        elif expected == 403:
            assert not body.startswith(b"\xef\xbb\xbf"), f"{address} sent a CSV with its 403"
            assert b"amal@example.qa" not in body
    assert not wrong, f"{role}: expected {expected} everywhere, got {wrong}"
    exports_after = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    # Each CSV download (not the .sha256 files, not the page) leaves one entry; a refusal leaves none.
    assert exports_after - exports_before == (8 if role in MAY_EXPORT else 0)


@pytest.mark.parametrize("role", [r for r in ROLES if r not in MAY_EXPORT])
def test_the_refusal_is_the_translated_access_denied_page(client, lang, items, role):
    person = user_for_role(role, transport_ministry())
    if person is not None:
        client.force_login(person)
    poll, _referendum, _consultation = items
    response = client.get(export_url(lang, poll, "ballots"))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html
    assert message_in(lang, "Access denied") in html


def test_anonymous_people_are_refused_not_sent_to_log_in(client, lang, items):
    poll, _referendum, _consultation = items
    response = client.get(export_url(lang, poll, "results"))
    assert response.status_code == 403
    assert "Location" not in response


def test_the_export_permission_alone_opens_the_exports_but_not_the_trail(client, lang, items):
    """docs/exports.md: "members of the Auditors group, or anyone with the permission export_results"."""
    poll, _referendum, _consultation = items
    person = make_staff(MINISTRY_ADMINS, transport_ministry())
    person.user_permissions.add(Permission.objects.get(codename="export_results"))
    client.force_login(person)
    assert client.get(export_url(lang, poll, "ballots")).status_code == 200
    assert client.get(index_url(lang)).status_code == 200
    assert client.get(trail_url(lang)).status_code == 403  # reading the trail needs view_auditentry too


def test_ministry_admins_of_the_items_own_entity_get_403_on_everything(client, lang, items):
    ministry_admin = make_staff(MINISTRY_ADMINS, transport_ministry())
    assert ministry_admin.has_perm("participation.view_result")
    client.force_login(ministry_admin)
    statuses = {address: client.get(address).status_code for address in every_export_address(lang, *items)}
    assert set(statuses.values()) == {403}, statuses


# ---------------------------------------------------------------------------
# Auditors in admin: every entity's items, read only
# ---------------------------------------------------------------------------


@pytest.fixture
def two_ministries(db):
    """A closed poll, referendum and consultation in each of two ministries."""
    transport = transport_ministry()
    health = EntityFactory(name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health", slug="health")
    made = {}
    for entity, suffix in ((transport, "t"), (health, "h")):
        made[entity.slug] = (
            bus_poll(slug=f"poll-{suffix}", entity=entity)[0],
            new_law_referendum(slug=f"referendum-{suffix}", entity=entity, known_receipts=False)[0],
            transport_consultation(slug=f"consultation-{suffix}", entity=entity)[0],
        )
    return made


def listed(response):
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def test_auditors_see_every_entitys_items_in_admin(client, lang, two_ministries):
    auditing = as_user(client, auditor(), lang)  # member of no entity
    (poll_t, referendum_t, consultation_t), (poll_h, referendum_h, consultation_h) = two_ministries.values()
    assert {p.pk for p in listed(auditing.get(admin_url("poll_changelist")))} == {poll_t.pk, poll_h.pk}
    assert {r.pk for r in listed(auditing.get(admin_url("referendum_changelist")))} == {
        referendum_t.pk,
        referendum_h.pk,
    }
    assert {c.pk for c in listed(auditing.get(admin_url("consultation_changelist")))} == {
        consultation_t.pk,
        consultation_h.pk,
    }
    assert listed(auditing.get(admin_url("comment_changelist"))) == set(Comment.objects.all())
    assert {c.item_id for c in Comment.objects.all()} == {consultation_t.pk, consultation_h.pk}
    assert listed(auditing.get(admin_url("result_changelist"))) == set(Result.objects.all())
    assert Result.objects.count() == 4
    assert listed(auditing.get(admin_url("entity_changelist"))) == set(Entity.objects.all())


def test_auditors_read_each_item_but_cannot_save_it(client, lang, two_ministries):
    auditing = as_user(client, auditor(), lang)
    _ours, (poll, referendum, consultation) = two_ministries.values()
    for model, item in (("poll", poll), ("referendum", referendum), ("consultation", consultation)):
        view = auditing.get(admin_url(f"{model}_change", item.pk))
        assert view.status_code == 200
        html = view.content.decode()
        assert item.title_en in html and item.title_ar in html  # both languages, read only
        assert 'name="_save"' not in html
        assert auditing.post(admin_url(f"{model}_change", item.pk), {"title_en": "Audited"}).status_code == 403
        assert auditing.post(admin_url(f"{model}_delete", item.pk), {"post": "yes"}).status_code == 403
        assert auditing.get(admin_url(f"{model}_add")).status_code == 403
    comment = Comment.objects.filter(item=consultation).first()
    assert (
        auditing.post(
            admin_url("comment_change", comment.pk), {"status": "hidden", "moderation_reason": "x"}
        ).status_code
        == 403
    )
    result = Result.objects.get(item=poll)
    assert auditing.get(admin_url("result_change", result.pk)).status_code == 200
    assert auditing.post(admin_url("result_delete", result.pk), {"post": "yes"}).status_code == 403
    assert auditing.post(admin_url("entity_change", poll.entity_id), {"name_en": "Audited"}).status_code == 403
    assert Item.objects.filter(title_en="Audited").count() == 0
    assert Entity.objects.filter(name_en="Audited").count() == 0
    assert Comment.objects.get(pk=comment.pk).status == comment.status
    assert Item.objects.count() == 6
    assert Result.objects.count() == 4


def test_auditors_get_no_lifecycle_actions(client, lang, two_ministries):
    auditing = as_user(client, auditor(), lang)
    response = auditing.get(admin_url("poll_changelist"))
    actions = (
        dict(response.context["action_form"].fields["action"].choices) if response.context.get("action_form") else {}
    )
    assert not {"schedule", "close_now", "publish", "delete_selected"} & set(actions)
    _ours, (poll, _referendum, _consultation) = two_ministries.values()
    state = poll.state
    auditing.post(admin_url("poll_changelist"), {"action": "close_now", "_selected_action": [poll.pk]})
    auditing.post(
        admin_url("poll_changelist"), {"action": "delete_selected", "_selected_action": [poll.pk], "post": "yes"}
    )
    assert Item.objects.get(pk=poll.pk).state == state


def test_auditors_group_has_the_export_permissions():
    auditors = Permission.objects.filter(group__name=AUDITORS).values_list("codename", flat=True)
    assert {"export_results", "view_auditentry", "view_result", "view_all_entities"} <= set(auditors)
    assert not [c for c in auditors if c.startswith(("add_", "change_", "delete_"))]
    for name in (r for r in ROLES if r not in MAY_EXPORT and r not in (ANONYMOUS, CITIZEN)):
        codenames = set(Permission.objects.filter(group__name=name).values_list("codename", flat=True))
        assert "export_results" not in codenames, name
        assert "view_auditentry" not in codenames, name
