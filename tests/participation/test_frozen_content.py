"""Content frozen once people take part (issue 9, part 8).

From the moment an item opens, its text, attachment, audience, sections,
questions and options stay as people saw them: the database refuses changes
(raw SQL included, on SQLite and PostgreSQL), the admin shows them read-only,
and what was wrong is put right by a dated public correction, which is on the
audit trail. Comments survive their section: deleting it is refused.

The database decides "opened" by its own clock, while these tests may move
Python's clock (time_machine); items are therefore built with times well away
from the real now.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation

from participation import errors
from participation.admin import FROZEN_NOTE, FROZEN_REFUSED
from participation.models import (
    FROZEN_ITEM_FIELDS,
    AuditEntry,
    Comment,
    Item,
    ItemCorrection,
    Option,
    Question,
    Section,
    State,
    content_frozen,
)
from participation.services import consultation as consultation_service
from participation.services import trail
from tests.builders.admin_forms import management, schedule
from tests.builders.items import make_consultation, make_poll, make_referendum, set_state
from tests.builders.users import MINISTRY_ADMINS, MINISTRY_STAFF, make_staff
from tests.factories import VerifiedUserFactory

from .conftest import (
    admin_url,
    as_user,
    assert_not_shown,
    assert_page_language,
    assert_shown,
    page,
    require_postgres,
    t,
    url,
)

pytestmark = pytest.mark.django_db

FROZEN_STATES = (State.OPEN, State.CLOSED, State.PUBLISHED)
NEW_VALUES = {
    "title_ar": "عنوان آخر",
    "title_en": "Another title",
    "summary_ar": "ملخص آخر",
    "summary_en": "Another summary",
    "body_ar": "نص آخر",
    "body_en": "Another body",
    "attachment": "consultations/2026/other.pdf",
}


def future_poll(**fields):
    """Scheduled, opening tomorrow: its content is still editable."""
    return make_poll(opens_at=timezone.now() + timedelta(days=1), **fields)


def set_column(column):
    """UPDATE of one item column by its name (the model's field names, never user input)."""
    return f"UPDATE participation_item SET {connection.ops.quote_name(column)} = %s WHERE id = %s"  # noqa: S608


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(sql, *params):
    """True when the database refuses the statement (in a savepoint, so the test goes on)."""
    try:
        with transaction.atomic():
            raw(sql, *params)
    except IntegrityError as error:
        assert "frozen" in str(error) or "append-only" in str(error), error
        return True
    return False


def new_value(item, column):
    if column in NEW_VALUES:
        return NEW_VALUES[column]
    return not getattr(item, column)


# ---------------------------------------------------------------------------
# The database refuses, whatever writes to it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", FROZEN_STATES)
@pytest.mark.parametrize("column", FROZEN_ITEM_FIELDS)
def test_raw_sql_cannot_change_what_people_saw(state, column):
    poll = set_state(make_poll(for_visitors=True), state)
    before = Item.objects.filter(pk=poll.pk).values(column).get()
    assert refused(set_column(column), new_value(poll, column), poll.pk)
    assert Item.objects.filter(pk=poll.pk).values(column).get() == before


def test_a_scheduled_item_is_frozen_by_the_database_clock_once_it_opens():
    poll = make_poll()  # scheduled, opened yesterday: the state is still "scheduled"
    assert poll.state == State.SCHEDULED
    assert refused("UPDATE participation_item SET title_en = %s WHERE id = %s", "Renamed", poll.pk)
    assert refused("UPDATE participation_item SET for_visitors = %s WHERE id = %s", True, poll.pk)


@pytest.mark.parametrize("column", FROZEN_ITEM_FIELDS)
def test_drafts_and_items_not_yet_open_stay_editable(column):
    draft = make_poll(state=State.DRAFT)
    upcoming = future_poll()
    for item in (draft, upcoming):
        assert not refused(set_column(column), new_value(item, column), item.pk)


def test_the_lifecycle_columns_stay_writable_after_opening():
    poll = set_state(make_poll(), State.OPEN)
    later = timezone.now() + timedelta(days=30)
    assert not refused("UPDATE participation_item SET closes_at = %s WHERE id = %s", later, poll.pk)
    assert not refused("UPDATE participation_item SET state = %s WHERE id = %s", State.CLOSED, poll.pk)
    assert not refused("UPDATE participation_item SET results_need_approval = %s WHERE id = %s", True, poll.pk)
    consultation = set_state(make_consultation(), State.CLOSED)
    for column in ("outcome_heard_ar", "outcome_heard_en", "outcome_changed_ar", "outcome_changed_en"):
        assert not refused(set_column(column), "text", consultation.pk)
    assert not refused("UPDATE participation_item SET outcome_due_at = %s WHERE id = %s", later, consultation.pk)
    assert not refused("UPDATE participation_item SET outcome_published_at = %s WHERE id = %s", later, consultation.pk)


@pytest.mark.parametrize("state", FROZEN_STATES)
def test_an_item_that_has_opened_cannot_be_unopened_to_edit_it(state):
    poll = set_state(make_poll(), state)
    assert refused("UPDATE participation_item SET state = %s WHERE id = %s", State.DRAFT, poll.pk)
    tomorrow = timezone.now() + timedelta(days=1)
    assert refused(
        "UPDATE participation_item SET state = %s, opens_at = %s WHERE id = %s", State.SCHEDULED, tomorrow, poll.pk
    )
    assert Item.objects.get(pk=poll.pk).state == state


@pytest.mark.parametrize("state", [State.SCHEDULED, *FROZEN_STATES])
def test_only_a_draft_can_be_deleted(state):
    draft = make_poll(state=State.DRAFT)
    item = set_state(future_poll(), state) if state != State.SCHEDULED else future_poll()
    assert refused("DELETE FROM participation_item WHERE id = %s", item.pk)
    assert Item.objects.filter(pk=item.pk).exists()
    draft.delete()  # its questions and options go with it
    assert not Item.objects.filter(pk=draft.pk).exists()


def test_sections_questions_and_options_of_an_opened_item_are_frozen():
    poll = set_state(make_poll(), State.OPEN)
    question = poll.questions.get()
    option = question.options.first()
    assert refused("UPDATE participation_question SET text_en = %s WHERE id = %s", "Reworded", question.pk)
    assert refused("UPDATE participation_option SET text_en = %s WHERE id = %s", "Reworded", option.pk)
    assert refused("DELETE FROM participation_option WHERE id = %s", option.pk)
    assert refused("DELETE FROM participation_question WHERE id = %s", question.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Option.objects.create(question=question, position=9, text_ar="جديد", text_en="New")
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(item=poll, position=2, text_ar="جديد؟", text_en="New?")
    # Nor moved in from, or out to, another item.
    draft = make_poll(state=State.DRAFT)
    assert refused("UPDATE participation_question SET item_id = %s WHERE id = %s", draft.pk, question.pk)
    assert refused("UPDATE participation_question SET item_id = %s WHERE id = %s", poll.pk, draft.questions.first().pk)
    assert refused(
        "UPDATE participation_option SET question_id = %s WHERE id = %s",
        question.pk,
        draft.questions.first().options.first().pk,
    )

    consultation = make_consultation()  # scheduled, opened yesterday by the clock
    section = consultation.sections.first()
    assert refused("UPDATE participation_section SET body_en = %s WHERE id = %s", "Rewritten", section.pk)
    assert refused("DELETE FROM participation_section WHERE id = %s", section.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.create(item=consultation, number=9, heading_ar="ق", heading_en="S", body_ar="ن", body_en="T")
    assert consultation.sections.count() == 2
    assert Option.objects.filter(pk=option.pk, text_en=option.text_en).exists()


def test_sections_and_questions_of_items_not_yet_open_stay_editable():
    poll = future_poll()
    question = poll.questions.get()
    assert not refused("UPDATE participation_question SET text_en = %s WHERE id = %s", "Reworded", question.pk)
    assert not refused("UPDATE participation_option SET text_en = %s WHERE question_id = %s", "Reworded", question.pk)
    Question.objects.create(item=poll, position=2, text_ar="جديد؟", text_en="New?")
    consultation = make_consultation(state=State.DRAFT)
    assert not refused("DELETE FROM participation_section WHERE item_id = %s", consultation.pk)


def test_corrections_are_append_only_in_the_database():
    poll = set_state(make_poll(), State.OPEN)
    correction = ItemCorrection.objects.create(
        item=poll,
        note_ar="التاريخ الصحيح",
        note_en="The right date",
        created_by=make_staff(MINISTRY_ADMINS, poll.entity),
    )
    assert refused(
        "UPDATE participation_itemcorrection SET note_en = %s WHERE id = %s", "Quietly changed", correction.pk
    )
    assert refused("DELETE FROM participation_itemcorrection WHERE id = %s", correction.pk)
    assert ItemCorrection.objects.get(pk=correction.pk).note_en == "The right date"


@pytest.mark.postgres
def test_replica_mode_does_not_switch_the_triggers_off():
    require_postgres()
    poll = set_state(make_poll(), State.OPEN)
    correction = ItemCorrection.objects.create(
        item=poll, note_ar="ملاحظة", note_en="Note", created_by=make_staff(MINISTRY_ADMINS, poll.entity)
    )
    with transaction.atomic():
        raw("SET LOCAL session_replication_role = replica")
        assert refused("UPDATE participation_item SET title_en = %s WHERE id = %s", "Renamed", poll.pk)
        assert refused(
            "UPDATE participation_option SET text_en = %s WHERE question_id = %s", "X", poll.questions.get().pk
        )
        assert refused("DELETE FROM participation_itemcorrection WHERE id = %s", correction.pk)
        assert refused("DELETE FROM participation_item WHERE id = %s", poll.pk)


# ---------------------------------------------------------------------------
# Comments outlive nothing: their section and item cannot be deleted from under them
# ---------------------------------------------------------------------------


def test_deleting_a_section_with_comments_is_refused():
    consultation = make_consultation(moderate_before_publishing=False)
    section = consultation.sections.first()
    comment = consultation_service.add_comment(
        VerifiedUserFactory(), consultation, "A published comment", section=section
    )
    assert comment.status == Comment.Status.PUBLISHED
    with pytest.raises(ProtectedError):
        section.delete()
    assert Comment.objects.filter(pk=comment.pk, section=section).exists()


def test_deleting_an_item_with_comments_is_refused():
    consultation = make_consultation(moderate_before_publishing=False)
    general = consultation_service.add_comment(VerifiedUserFactory(), consultation, "On the whole draft")
    with pytest.raises(ProtectedError):
        Item.objects.get(pk=consultation.pk).delete()
    assert Comment.objects.filter(pk=general.pk).exists()


# ---------------------------------------------------------------------------
# The Python side agrees with the database
# ---------------------------------------------------------------------------


def test_content_frozen_follows_the_state_and_the_clock():
    assert not content_frozen(make_poll(state=State.DRAFT))
    assert not content_frozen(future_poll())
    assert content_frozen(make_poll())  # scheduled, opened yesterday
    for state in FROZEN_STATES:
        assert content_frozen(set_state(future_poll(), state))


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------


def change_form(item, **overrides):
    """What the poll change form posts, with every field as stored, questions unchanged, no new correction."""
    questions = list(item.questions.all())
    data = {
        "entity": item.entity_id,
        "slug": item.slug,
        **{
            f"{name}_{lang}": getattr(item, f"{name}_{lang}")
            for name in ("title", "summary", "body")
            for lang in ("ar", "en")
        },
        **schedule(item.opens_at, item.closes_at),
        "for_citizens": "on",
        "for_residents": "on",
        **management("questions", total=len(questions), initial=len(questions)),
        **management("corrections"),
        "_save": "Save",
    }
    for i, question in enumerate(questions):
        data.update(
            {
                f"questions-{i}-id": str(question.pk),
                f"questions-{i}-item": str(item.pk),
                f"questions-{i}-position": str(question.position),
                f"questions-{i}-text_ar": question.text_ar,
                f"questions-{i}-text_en": question.text_en,
                f"questions-{i}-kind": question.kind,
                f"questions-{i}-min_choices": str(question.min_choices),
                f"questions-{i}-max_choices": str(question.max_choices),
            }
        )
        # Each question's options are a nested formset on the same page (django-nested-admin).
        options = list(question.options.all())
        data.update(management(f"questions-{i}-options", total=len(options), initial=len(options)))
        for j, option in enumerate(options):
            data.update(
                {
                    f"questions-{i}-options-{j}-id": str(option.pk),
                    f"questions-{i}-options-{j}-question": str(question.pk),
                    f"questions-{i}-options-{j}-position": str(option.position),
                    f"questions-{i}-options-{j}-text_ar": option.text_ar,
                    f"questions-{i}-options-{j}-text_en": option.text_en,
                }
            )
    data.update(overrides)
    return data


@pytest.fixture
def admin_a(entity):
    return make_staff(MINISTRY_ADMINS, entity)


def test_admin_shows_the_content_of_an_opened_item_read_only_and_says_why(client, lang, admin_a, entity):
    poll = make_poll(entity=entity)
    response = as_user(client, admin_a, lang).get(admin_url("poll_change", poll.pk))
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in FROZEN_ITEM_FIELDS:
        assert name not in form.fields
    assert {"opens_at", "closes_at"} <= set(form.fields)  # the dates can still move
    questions = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "questions")
    assert not (questions.has_add_permission or questions.has_change_permission or questions.has_delete_permission)
    with translation.override(lang):
        assert_shown(response, str(FROZEN_NOTE))
    corrections = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "corrections")
    assert corrections.has_add_permission
    assert not (corrections.has_change_permission or corrections.has_delete_permission)


def test_admin_leaves_an_item_not_yet_open_editable_and_without_corrections(client, lang, admin_a, entity):
    poll = future_poll(entity=entity)
    response = as_user(client, admin_a, lang).get(admin_url("poll_change", poll.pk))
    form = response.context["adminform"].form
    assert {"title_ar", "title_en", "summary_ar", "summary_en", "body_ar", "body_en"} <= set(form.fields)
    prefixes = [f.formset.prefix for f in response.context["inline_admin_formsets"]]
    assert "corrections" not in prefixes
    with translation.override(lang):
        assert_not_shown(response, str(FROZEN_NOTE))


def test_consultation_sections_and_pdf_are_read_only_once_open(client, lang, admin_a, entity):
    consultation = make_consultation(entity=entity)
    response = as_user(client, admin_a, lang).get(admin_url("consultation_change", consultation.pk))
    assert "attachment" not in response.context["adminform"].form.fields
    sections = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "sections")
    assert not (sections.has_add_permission or sections.has_change_permission or sections.has_delete_permission)
    with translation.override(lang):
        assert_shown(response, str(FROZEN_NOTE))


def test_a_posted_title_change_to_an_opened_item_is_ignored(client, lang, admin_a, entity):
    poll = make_poll(entity=entity, title_en="Metro at night")
    data = change_form(poll, title_en="Metro all day", **{"questions-0-text_en": "Reworded"})
    response = as_user(client, admin_a, lang).post(admin_url("poll_change", poll.pk), data)
    assert response.status_code == 302
    assert Item.objects.get(pk=poll.pk).title_en == "Metro at night"
    assert poll.questions.get().text_en != "Reworded"


def test_an_item_that_opens_while_being_edited_gives_a_form_error_not_a_500(client, lang, admin_a, entity):
    """The admin judges by the application's clock, the database by its own: when they disagree, the trigger wins."""
    now = timezone.now()
    poll = make_poll(entity=entity, opens_at=now - timedelta(hours=1), title_en="Metro at night")
    with time_machine.travel(now - timedelta(hours=2), tick=False):  # for the application, not open yet
        as_user(client, admin_a, lang)
        assert "title_en" in client.get(admin_url("poll_change", poll.pk)).context["adminform"].form.fields
        response = client.post(admin_url("poll_change", poll.pk), change_form(poll, title_en="Metro all day"))
    assert response.status_code == 200
    with translation.override(lang):
        assert_shown(response, str(FROZEN_REFUSED))
    assert Item.objects.get(pk=poll.pk).title_en == "Metro at night"


def test_an_opened_item_cannot_be_deleted_in_admin(client, lang, admin_a, entity):
    poll = make_poll(entity=entity)
    response = as_user(client, admin_a, lang).post(admin_url("poll_delete", poll.pk), {"post": "yes"})
    assert response.status_code == 403
    response = client.post(
        admin_url("poll_changelist"), {"action": "delete_selected", "_selected_action": [poll.pk], "post": "yes"}
    )
    assert response.status_code == 403  # deleting is refused for anything but a draft
    assert Item.objects.filter(pk=poll.pk).exists()


# ---------------------------------------------------------------------------
# Corrections: added in admin, on the audit trail, on the public page
# ---------------------------------------------------------------------------

NOTE_AR = "موعد الإغلاق الصحيح هو الخامس من ديسمبر."
NOTE_EN = "The right closing date is 5 December."


def correction_form(item, **overrides):
    return change_form(
        item,
        **{
            **management("corrections", total=1),
            "corrections-0-note_ar": NOTE_AR,
            "corrections-0-note_en": NOTE_EN,
            **overrides,
        },
    )


def test_a_correction_is_published_on_the_page_in_both_languages_and_on_the_audit_trail(client, admin_a, entity):
    referendum = make_referendum(entity=entity)
    data = correction_form(referendum)
    data.update(management("questions", total=1, initial=1))
    moment = timezone.now().replace(hour=9)
    with time_machine.travel(moment, tick=False):
        response = as_user(client, admin_a, "en").post(admin_url("referendum_change", referendum.pk), data)
    assert response.status_code == 302
    correction = ItemCorrection.objects.get(item=referendum)
    assert (correction.note_ar, correction.note_en, correction.created_by) == (NOTE_AR, NOTE_EN, admin_a)

    entry = AuditEntry.objects.get(object_type="participation.itemcorrection", object_id=str(correction.pk))
    assert (entry.action, entry.actor, entry.entity) == (AuditEntry.Action.CREATE, admin_a, entity)
    assert entry.details == {"item_id": referendum.pk, "note_ar": NOTE_AR, "note_en": NOTE_EN}

    client.logout()
    for lang, note in (("ar", NOTE_AR), ("en", NOTE_EN)):
        response = client.get(url(lang, "referendum_detail", slug=referendum.slug))
        assert response.status_code == 200
        assert_page_language(response, lang)
        with translation.override(lang):
            from django.utils.formats import date_format

            day = date_format(timezone.localtime(correction.created_at), "DATE_FORMAT")
        assert_shown(response, t(lang, "Correction, %(date)s:", date=day))
        assert_shown(response, note)
        other = NOTE_EN if lang == "ar" else NOTE_AR
        assert_not_shown(response, other)
    assert "5 December" in NOTE_EN and day in page(response)


@pytest.mark.parametrize("kind", ["poll", "consultation"])
def test_corrections_show_on_every_kind_of_item_page(client, lang, entity, kind):
    item = make_poll(entity=entity) if kind == "poll" else make_consultation(entity=entity)
    ItemCorrection.objects.create(
        item=item, note_ar=NOTE_AR, note_en=NOTE_EN, created_by=make_staff(MINISTRY_ADMINS, entity)
    )
    response = client.get(url(lang, f"{kind}_detail", slug=item.slug))
    assert_shown(response, NOTE_AR if lang == "ar" else NOTE_EN)
    assert_shown(response, t(lang, "Corrections"))


def test_a_correction_and_its_audit_entry_are_written_together_or_not_at_all(client, admin_a, entity, monkeypatch):
    poll = make_poll(entity=entity)

    def broken_record(*args, **kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr("participation.services.trail.record", broken_record)
    with pytest.raises(RuntimeError):
        as_user(client, admin_a, "en").post(admin_url("poll_change", poll.pk), correction_form(poll))
    assert not ItemCorrection.objects.exists()


def test_corrections_need_both_languages_and_cannot_be_changed_in_admin(client, lang, admin_a, entity):
    poll = make_poll(entity=entity)
    response = as_user(client, admin_a, lang).post(
        admin_url("poll_change", poll.pk), correction_form(poll, **{"corrections-0-note_ar": ""})
    )
    assert response.status_code == 200
    assert not ItemCorrection.objects.exists()

    ItemCorrection.objects.create(item=poll, note_ar=NOTE_AR, note_en=NOTE_EN, created_by=admin_a)
    view = client.get(admin_url("poll_change", poll.pk))
    corrections = next(f for f in view.context["inline_admin_formsets"] if f.formset.prefix == "corrections")
    assert not corrections.has_change_permission and not corrections.has_delete_permission
    assert 'name="corrections-0-DELETE"' not in page(view)


def test_ministry_staff_may_add_corrections_to_their_own_entitys_items_only(client, lang, entity, other_entity):
    staff = make_staff(MINISTRY_STAFF, entity)
    mine, theirs = make_poll(entity=entity), make_poll(entity=other_entity)
    as_user(client, staff, lang)
    assert client.post(admin_url("poll_change", mine.pk), correction_form(mine)).status_code == 302
    assert ItemCorrection.objects.filter(item=mine).count() == 1
    refused = client.post(admin_url("poll_change", theirs.pk), correction_form(theirs))
    assert (refused.status_code, refused["Location"]) == (302, "/admin/")  # not in their list: back to the index
    assert not ItemCorrection.objects.filter(item=theirs).exists()


# ---------------------------------------------------------------------------
# The suite's flush (tests/audit_guards.py, as every transactional test does) lifts the guards and puts them back;
# a flush outside the suite is refused, on purpose (docs/audit.md)
# ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_suites_flush_empties_opened_items_and_keeps_the_triggers():
    make_consultation()
    set_state(make_poll(), State.CLOSED)
    call_command("flush", interactive=False, verbosity=0)
    assert not Item.objects.exists()
    poll = make_poll()
    assert refused("UPDATE participation_item SET title_en = %s WHERE id = %s", "Renamed", poll.pk)
    assert refused("DELETE FROM participation_question WHERE item_id = %s", poll.pk)


# ---------------------------------------------------------------------------
# The correction service: the one writer of corrections (the admin calls it)
# ---------------------------------------------------------------------------


def test_a_correction_is_written_with_its_audit_entry_or_not_at_all(monkeypatch):
    poll = set_state(make_poll(), State.OPEN)
    staff = make_staff(MINISTRY_ADMINS, poll.entity)

    def trail_down(*args, **kwargs):
        raise IntegrityError("the audit trail refused")

    monkeypatch.setattr(trail, "record", trail_down)
    with pytest.raises(IntegrityError):
        consultation_service.publish_correction(staff, poll, "تصحيح", "Correction")
    assert not ItemCorrection.objects.exists()
    monkeypatch.undo()
    correction = consultation_service.publish_correction(staff, poll, "تصحيح", "Correction")
    entry = AuditEntry.objects.get(object_type="participation.itemcorrection", object_id=str(correction.pk))
    assert (entry.actor, correction.created_by) == (staff, staff)


def test_an_item_not_yet_open_is_corrected_in_place_not_by_a_correction(lang):
    draft = make_poll(state=State.DRAFT)
    with pytest.raises(errors.LifecycleError) as refusal:
        consultation_service.publish_correction(make_staff(MINISTRY_ADMINS, draft.entity), draft, "تصحيح", "Correction")
    with translation.override(lang):
        shown = str(refusal.value.message)
    assert shown == t(lang, "This item has not opened yet: correct the item itself instead of adding a correction.")
    assert not ItemCorrection.objects.exists()
