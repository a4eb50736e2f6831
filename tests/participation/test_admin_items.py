"""The admin for items: the four groups, scoping by entity, validation, locks, actions, preview, filters, moderation.

The admin has no language prefix: it follows Accept-Language, so every test runs
with the browser asking for Arabic and for English.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from participation.models import Comment, Item, Poll, Question, Result, State
from participation.services import consultation as consultation_service
from participation.services import voting
from participation.services.counting import tally
from tests.builders.admin_forms import management, poll_form
from tests.builders.items import make_consultation, make_poll, make_referendum, single_choices
from tests.builders.users import AUDITORS, MINISTRY_ADMINS, MINISTRY_STAFF, MODERATORS, make_staff
from tests.factories import SuperUserFactory, VerifiedUserFactory

from .conftest import admin_url, as_user, assert_not_shown, assert_shown, page, shown_items, t

pytestmark = pytest.mark.django_db


def change_form(item, opens=None, closes=None, **overrides):
    # An item that has opened also has the corrections inline (none added here).
    fields = {"title_en": item.title_en, "title_ar": item.title_ar, **management("corrections"), **overrides}
    return poll_form(
        item.entity, slug=item.slug, opens=opens or item.opens_at, closes=closes or item.closes_at, **fields
    )


@pytest.fixture
def poll_a(entity):
    return make_poll(entity=entity, title_en="Metro at night", title_ar="المترو ليلاً")


@pytest.fixture
def poll_b(other_entity):
    return make_poll(entity=other_entity, title_en="Vaccination days", title_ar="أيام التطعيم")


@pytest.fixture
def staff_a(entity):
    return make_staff(MINISTRY_STAFF, entity)


@pytest.fixture
def admin_a(entity):
    return make_staff(MINISTRY_ADMINS, entity)


@pytest.fixture
def auditor():
    return make_staff(AUDITORS)


# ---------------------------------------------------------------------------
# The groups (data migration 0003)
# ---------------------------------------------------------------------------


def codenames(name):
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_the_migration_creates_the_four_staff_groups():
    staff, admins, moderators, auditors = (
        codenames(n) for n in (MINISTRY_STAFF, MINISTRY_ADMINS, MODERATORS, AUDITORS)
    )
    assert {"add_poll", "change_poll", "view_poll", "add_question", "change_option"} <= staff
    assert not {"delete_poll", "schedule_item", "view_all_entities", "moderate_comment"} & staff
    assert {"delete_poll", "delete_referendum", "schedule_item", "change_consultation"} <= admins
    assert "view_all_entities" not in admins
    assert {"change_comment", "moderate_comment", "view_comment"} <= moderators
    assert not {c for c in moderators if c.startswith(("add_", "delete_"))}
    assert "change_poll" not in moderators
    assert {"view_all_entities", "view_poll", "view_referendum", "view_consultation", "view_comment"} <= auditors
    assert not {c for c in auditors if c.startswith(("add_", "change_", "delete_"))}


# ---------------------------------------------------------------------------
# Scoping: staff see and change only their own entities' items
# ---------------------------------------------------------------------------


def test_staff_see_only_their_entitys_items(client, lang, staff_a, poll_a, poll_b):
    response = as_user(client, staff_a, lang).get(admin_url("poll_changelist"))
    assert response.status_code == 200
    assert shown_items(response) == {poll_a}
    assert "Metro at night" in page(response)
    assert "Vaccination days" not in page(response)
    assert admin_url("poll_change", poll_b.pk) not in page(response)


def test_staff_cannot_open_or_change_another_entitys_item(client, lang, staff_a, poll_b):
    as_user(client, staff_a, lang)
    assert client.get(admin_url("poll_change", poll_b.pk)).status_code == 302  # "does not exist", as the table says
    response = client.post(admin_url("poll_change", poll_b.pk), change_form(poll_b, title_en="Taken over"))
    assert response.status_code == 302
    assert Item.objects.get(pk=poll_b.pk).title_en == "Vaccination days"
    question = poll_b.questions.get()
    assert client.get(admin_url("question_change", question.pk)).status_code == 302


def test_staff_change_their_own_entitys_draft(client, lang, staff_a, entity):
    draft = make_poll(state=State.DRAFT, entity=entity)
    response = as_user(client, staff_a, lang).post(
        admin_url("poll_change", draft.pk), change_form(draft, title_en="Metro till 2am")
    )
    assert response.status_code == 302
    assert Item.objects.get(pk=draft.pk).title_en == "Metro till 2am"


def test_staff_move_the_closing_date_of_a_scheduled_item(client, lang, staff_a, poll_a):
    """Once scheduled, audience fields are read-only but "dates can still move" (ItemAdmin.get_readonly_fields)."""
    later = poll_a.closes_at + timedelta(days=3)
    response = as_user(client, staff_a, lang).post(
        admin_url("poll_change", poll_a.pk), change_form(poll_a, closes=later)
    )
    assert response.status_code == 302
    assert Item.objects.get(pk=poll_a.pk).closes_at == later.replace(microsecond=0)


def test_ministry_admins_delete_only_their_own_entitys_items(client, lang, admin_a, poll_a, poll_b):
    as_user(client, admin_a, lang)
    response = client.post(admin_url("poll_delete", poll_b.pk), {"post": "yes"})
    assert response.status_code == 302
    assert Item.objects.filter(pk=poll_b.pk).exists()
    draft = make_poll(state=State.DRAFT, entity=poll_a.entity)
    assert client.post(admin_url("poll_delete", draft.pk), {"post": "yes"}).status_code == 302
    assert not Item.objects.filter(pk=draft.pk).exists()


def test_ministry_staff_cannot_delete(client, lang, staff_a, poll_a):
    response = as_user(client, staff_a, lang).post(admin_url("poll_delete", poll_a.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Item.objects.filter(pk=poll_a.pk).exists()


def test_the_entity_dropdown_lists_only_the_staffs_entities(client, lang, staff_a, entity, other_entity):
    response = as_user(client, staff_a, lang).get(admin_url("poll_add"))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields["entity"].queryset) == [entity]
    assert f'<option value="{entity.pk}"' in page(response)
    assert f'<option value="{other_entity.pk}"' not in page(response)


def test_a_tampered_entity_is_refused(client, lang, staff_a, other_entity):
    response = as_user(client, staff_a, lang).post(admin_url("poll_add"), poll_form(other_entity))
    assert response.status_code == 200
    assert "entity" in response.context["adminform"].form.errors
    assert not Item.objects.filter(slug="new-poll").exists()


def test_superusers_see_every_entity(client, lang, poll_a, poll_b, entity, other_entity):
    as_user(client, SuperUserFactory(), lang)
    assert shown_items(client.get(admin_url("poll_changelist"))) == {poll_a, poll_b}
    form = client.get(admin_url("poll_add")).context["adminform"].form
    assert set(form.fields["entity"].queryset) == {entity, other_entity}


def test_auditors_see_everything_and_change_nothing(client, lang, auditor, poll_a, poll_b):
    as_user(client, auditor, lang)
    assert shown_items(client.get(admin_url("poll_changelist"))) == {poll_a, poll_b}
    view = client.get(admin_url("poll_change", poll_b.pk))
    assert view.status_code == 200
    assert 'name="_save"' not in page(view)
    assert client.post(admin_url("poll_change", poll_b.pk), change_form(poll_b, title_en="Audited")).status_code == 403
    assert client.post(admin_url("poll_delete", poll_b.pk), {"post": "yes"}).status_code == 403
    assert client.post(admin_url("poll_add"), poll_form(poll_a.entity)).status_code == 403
    question = poll_b.questions.get()
    assert client.post(admin_url("question_change", question.pk), {"text_en": "Audited"}).status_code == 403
    assert Item.objects.get(pk=poll_b.pk).title_en == "Vaccination days"
    assert Poll.objects.count() == 2


# ---------------------------------------------------------------------------
# Validation messages
# ---------------------------------------------------------------------------


def test_closing_must_come_after_opening(client, lang, staff_a, entity):
    opens = timezone.now() + timedelta(days=3)
    response = as_user(client, staff_a, lang).post(
        admin_url("poll_add"), poll_form(entity, opens=opens, closes=opens - timedelta(hours=1))
    )
    assert response.status_code == 200
    assert_shown(response, t(lang, "The closing time must be after the opening time."))
    assert not Item.objects.exists()


def test_someone_must_be_able_to_take_part(client, lang, staff_a, entity):
    response = as_user(client, staff_a, lang).post(
        admin_url("poll_add"), poll_form(entity, for_citizens=None, for_residents=None)
    )
    assert response.status_code == 200
    assert_shown(response, t(lang, "Choose at least one group of people who may take part."))
    assert not Item.objects.exists()


def test_a_new_poll_is_a_draft_of_the_staffs_entity(client, lang, staff_a, entity):
    response = as_user(client, staff_a, lang).post(admin_url("poll_add"), poll_form(entity))
    assert response.status_code == 302
    poll = Poll.objects.get(slug="new-poll")
    assert (poll.state, poll.entity, poll.created_by, poll.kind) == (State.DRAFT, entity, staff_a, "poll")


def question_form(item, options, **overrides):
    data = {
        "item": item.pk,
        "position": "1",
        "text_ar": "سؤال",
        "text_en": "A question",
        "kind": "single",
        "min_choices": "1",
        "max_choices": "1",
        **management("options", total=options),
        "_save": "Save",
    }
    for i in range(options):
        data.update(
            {
                f"options-{i}-position": str(i + 1),
                f"options-{i}-text_ar": f"خيار {i}",
                f"options-{i}-text_en": f"Option {i}",
            }
        )
    data.update(overrides)
    return data


@pytest.mark.parametrize(("kind", "options", "most"), [("poll", 1, 20), ("poll", 21, 20), ("referendum", 6, 5)])
def test_a_question_needs_between_2_and_the_maximum_of_options(client, lang, admin_a, entity, kind, options, most):
    item = (
        make_poll(questions=0, state=State.DRAFT, entity=entity)
        if kind == "poll"
        else make_referendum(state=State.DRAFT, entity=entity)
    )
    item.questions.all().delete()
    as_user(client, admin_a, lang)
    response = client.post(admin_url("question_add"), question_form(item, options))
    assert response.status_code == 200
    assert_shown(response, t(lang, "A question needs between %(min)d and %(max)d options.", min=2, max=most))
    assert not Question.objects.filter(item=item).exists()
    ok = client.post(admin_url("question_add"), question_form(item, 2))
    assert ok.status_code == 302
    assert Question.objects.get(item=item).options.count() == 2


def test_scheduling_needs_both_languages(client, lang, admin_a, entity):
    draft = make_poll(state=State.DRAFT, entity=entity, title_en="")
    as_user(client, admin_a, lang)
    response = client.post(
        admin_url("poll_changelist"), {"action": "schedule", "_selected_action": [draft.pk]}, follow=True
    )
    assert response.status_code == 200
    assert_shown(response, t(lang, "Fill in the title, summary and body in both Arabic and English."))
    assert Item.objects.get(pk=draft.pk).state == State.DRAFT


# ---------------------------------------------------------------------------
# Questions and options are locked once the item opens
# ---------------------------------------------------------------------------


def test_questions_can_change_until_the_item_opens_then_are_locked(client, lang, admin_a, entity):
    poll = make_poll(entity=entity, opens_at=timezone.now() + timedelta(days=1))  # scheduled, not open yet
    question = poll.questions.get()
    as_user(client, admin_a, lang)
    options = list(question.options.all())
    data = question_form(poll, 0, text_en="Reworded before opening")
    data.update(management("options", total=len(options), initial=len(options)))
    for i, option in enumerate(options):
        data.update(
            {
                f"options-{i}-id": str(option.pk),
                f"options-{i}-question": str(question.pk),
                f"options-{i}-position": str(option.position),
                f"options-{i}-text_ar": option.text_ar,
                f"options-{i}-text_en": option.text_en,
            }
        )
    assert client.post(admin_url("question_change", question.pk), data).status_code == 302
    assert Question.objects.get(pk=question.pk).text_en == "Reworded before opening"

    Item.objects.filter(pk=poll.pk).update(opens_at=timezone.now() - timedelta(minutes=1))  # the clock opens it
    view = client.get(admin_url("question_change", question.pk))
    assert view.status_code == 200
    assert 'name="_save"' not in page(view)
    data["text_en"] = "Reworded after opening"
    data["options-0-text_en"] = "Sneaky new wording"
    assert client.post(admin_url("question_change", question.pk), data).status_code == 403
    assert Question.objects.get(pk=question.pk).text_en == "Reworded before opening"
    assert not question.options.filter(text_en="Sneaky new wording").exists()
    assert client.post(admin_url("question_delete", question.pk), {"post": "yes"}).status_code == 403


def test_no_question_can_be_added_to_a_poll_with_ballots_from_the_question_admin(client, lang, admin_a, poll_a):
    voting.cast_poll_ballot(VerifiedUserFactory(), poll_a, single_choices(poll_a))
    question = poll_a.questions.get()
    response = as_user(client, admin_a, lang).post(admin_url("question_add"), question_form(poll_a, 2, position="5"))
    assert response.status_code == 200  # the form again: the poll is not among the items offered
    assert list(poll_a.questions.all()) == [question]


def test_no_question_can_be_added_inline_to_a_poll_with_ballots(client, lang, admin_a, poll_a):
    voting.cast_poll_ballot(VerifiedUserFactory(), poll_a, single_choices(poll_a))
    data = change_form(poll_a)
    data.update(management("questions", total=1))
    data.update(
        {
            "questions-0-position": "2",
            "questions-0-text_ar": "جديد",
            "questions-0-text_en": "New",
            "questions-0-kind": "single",
            "questions-0-min_choices": "1",
            "questions-0-max_choices": "1",
        }
    )
    response = as_user(client, admin_a, lang).post(admin_url("poll_change", poll_a.pk), data)
    assert response.status_code == 200  # the form again, with the refusal
    assert poll_a.questions.count() == 1


# ---------------------------------------------------------------------------
# Actions: schedule, close now, publish results
# ---------------------------------------------------------------------------


def run_action(client, model, action, *items):
    return client.post(
        admin_url(f"{model}_changelist"), {"action": action, "_selected_action": [i.pk for i in items]}, follow=True
    )


def test_ministry_admins_schedule_close_and_publish(client, lang, admin_a, entity):
    draft = make_poll(state=State.DRAFT, entity=entity)
    as_user(client, admin_a, lang)
    response = run_action(client, "poll", "schedule", draft)
    with translation.override(lang):
        assert_shown(
            response,
            translation.ngettext("%(count)d item has been scheduled.", "%(count)d items have been scheduled.", 1)
            % {"count": 1},
        )
    assert Item.objects.get(pk=draft.pk).state == State.SCHEDULED

    scheduled = Item.objects.get(pk=draft.pk)
    voting.cast_poll_ballot(VerifiedUserFactory(), scheduled, single_choices(scheduled))
    response = run_action(client, "poll", "close_now", scheduled)
    with translation.override(lang):
        assert_shown(
            response,
            translation.ngettext("%(count)d item has been closed.", "%(count)d items have been closed.", 1)
            % {"count": 1},
        )
    assert Item.objects.get(pk=draft.pk).state == State.CLOSED  # the tally waits for the commit

    # "Publish" never counts (a request only reads): before the worker has counted, it says so.
    response = run_action(client, "poll", "publish", Item.objects.get(pk=draft.pk))
    assert_shown(
        response, t(lang, "The ballots are still being counted. Publish the results once the count is stored.")
    )
    assert Item.objects.get(pk=draft.pk).state == State.CLOSED
    tally(draft.pk)  # the worker's count, without its automatic publication

    response = run_action(client, "poll", "publish", Item.objects.get(pk=draft.pk))
    with translation.override(lang):
        assert_shown(
            response,
            translation.ngettext(
                "Results or outcome published for %(count)d item.",
                "Results or outcome published for %(count)d items.",
                1,
            )
            % {"count": 1},
        )
    assert Item.objects.get(pk=draft.pk).state == State.PUBLISHED
    assert Result.objects.get(item=draft).ballots == 1


def test_close_now_refuses_an_item_that_has_not_opened(client, lang, admin_a, entity):
    upcoming = make_poll(entity=entity, opens_at=timezone.now() + timedelta(days=2))
    response = run_action(as_user(client, admin_a, lang), "poll", "close_now", upcoming)
    assert_shown(response, t(lang, "This item has not opened yet, so it cannot be closed."))
    assert Item.objects.get(pk=upcoming.pk).state == State.SCHEDULED


def test_publishing_before_closing_is_refused(client, lang, admin_a, poll_a):
    response = run_action(as_user(client, admin_a, lang), "poll", "publish", poll_a)
    assert_shown(response, t(lang, "Results can be published only after the item has closed."))
    assert Item.objects.get(pk=poll_a.pk).state == State.SCHEDULED


def test_ministry_staff_do_not_get_the_lifecycle_actions(client, lang, staff_a, entity):
    draft = make_poll(state=State.DRAFT, entity=entity)
    as_user(client, staff_a, lang)
    action_form = client.get(admin_url("poll_changelist")).context["action_form"]
    choices = [name for name, _label in action_form.fields["action"].choices] if action_form else []
    assert not {"schedule", "close_now", "publish"} & set(choices)
    run_action(client, "poll", "schedule", draft)
    assert Item.objects.get(pk=draft.pk).state == State.DRAFT


# ---------------------------------------------------------------------------
# Preview, filters, search
# ---------------------------------------------------------------------------


def test_drafts_have_a_preview_link_that_works_for_their_staff(client, lang, staff_a, entity, poll_a):
    draft = make_poll(state=State.DRAFT, entity=entity, title_en="Bus lanes draft")
    as_user(client, staff_a, lang)
    listing = client.get(admin_url("poll_changelist"))
    preview_url = f"/{lang}/polls/{draft.slug}/"
    assert f'href="{preview_url}"' in page(listing)
    assert_shown(listing, t(lang, "Preview"))
    assert_shown(listing, t(lang, "View on site"))  # poll_a is scheduled
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert_shown(preview, t(lang, "Preview: this draft is not public yet."))


def test_filters_and_search(client, lang, entity, other_entity):
    draft = make_poll(state=State.DRAFT, entity=entity, title_en="Parking permits")
    scheduled = make_poll(entity=other_entity, title_en="Clinic hours", title_ar="ساعات العيادات")
    as_user(client, SuperUserFactory(), lang)
    assert shown_items(client.get(admin_url("poll_changelist"), {"state": "draft"})) == {draft}
    assert shown_items(client.get(admin_url("poll_changelist"), {"entity__id__exact": other_entity.pk})) == {scheduled}
    assert shown_items(client.get(admin_url("poll_changelist"), {"q": "parking"})) == {draft}
    assert shown_items(client.get(admin_url("poll_changelist"), {"q": "العيادات"})) == {scheduled}


def test_each_type_has_its_own_list(client, lang, entity):
    poll, referendum, consultation = (
        make_poll(entity=entity),
        make_referendum(entity=entity),
        make_consultation(entity=entity),
    )
    as_user(client, SuperUserFactory(), lang)
    assert shown_items(client.get(admin_url("poll_changelist"))) == {poll}
    assert {i.pk for i in shown_items(client.get(admin_url("referendum_changelist")))} == {referendum.pk}
    assert {i.pk for i in shown_items(client.get(admin_url("consultation_changelist")))} == {consultation.pk}


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------


@pytest.fixture
def pending(entity, citizen):
    return consultation_service.add_comment(citizen, make_consultation(entity=entity), "Please add night buses")


@pytest.fixture
def moderator(entity):
    return make_staff(MODERATORS, entity)


def moderation(status, reason=""):
    return {"status": status, "moderation_reason": reason, "_save": "Save"}


def test_moderators_hide_a_comment_only_with_a_reason(client, lang, moderator, pending):
    as_user(client, moderator, lang)
    response = client.post(admin_url("comment_change", pending.pk), moderation("hidden"))
    assert response.status_code == 200
    assert_shown(response, t(lang, "Give a reason for hiding the comment."))
    assert Comment.objects.get(pk=pending.pk).status == Comment.Status.PENDING
    response = client.post(admin_url("comment_change", pending.pk), moderation("hidden", "Names a private person"))
    assert response.status_code == 302
    hidden = Comment.objects.get(pk=pending.pk)
    assert (hidden.status, hidden.moderation_reason, hidden.moderated_by) == (
        "hidden",
        "Names a private person",
        moderator,
    )


def test_moderators_approve_comments_in_bulk(client, lang, moderator, pending):
    as_user(client, moderator, lang)
    response = run_action(client, "comment", "approve", pending)
    assert response.status_code == 200
    approved = Comment.objects.get(pk=pending.pk)
    assert (approved.status, approved.moderated_by) == (Comment.Status.PUBLISHED, moderator)


def test_choosing_waiting_for_moderation_neither_crashes_nor_hides(client, lang, moderator, pending):
    as_user(client, moderator, lang)
    response = client.post(admin_url("comment_change", pending.pk), moderation("pending"))
    assert response.status_code == 200  # the form again: "waiting" is not a decision
    assert Comment.objects.get(pk=pending.pk).status != Comment.Status.HIDDEN


def test_ministry_staff_cannot_moderate(client, lang, staff_a, pending):
    as_user(client, staff_a, lang)
    response = client.post(admin_url("comment_change", pending.pk), moderation("published"))
    assert response.status_code == 403
    assert Comment.objects.get(pk=pending.pk).status == Comment.Status.PENDING


def test_the_comment_list_has_no_add_button(client, lang, moderator, pending):
    response = as_user(client, moderator, lang).get(admin_url("comment_changelist"))
    assert response.status_code == 200
    assert shown_items(response) == {pending}
    assert admin_url("comment_add") not in page(response)
    assert_not_shown(response, "Traceback")
