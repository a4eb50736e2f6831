"""Issue 12, ministry staff in the admin: roles and whom to ask, the state by the clock, the draft preview,
questions and options on the poll's own page, scoping of every filter, Arabic messages, the brand.

The admin follows Accept-Language: every test that reads a page runs in Arabic and in English.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone, translation

from accounts.models import User
from participation import roles
from participation.models import Poll, State
from participation.services import consultation as consultation_service
from tests.builders.admin_forms import management, poll_form, schedule
from tests.builders.items import make_consultation, make_poll, make_referendum
from tests.builders.users import MINISTRY_ADMINS, MINISTRY_STAFF, MODERATORS, make_staff
from tests.factories import SuperUserFactory

from .conftest import admin_url, as_user, assert_not_shown, assert_shown, page, shown_items, t, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_a(entity):
    return make_staff(MINISTRY_STAFF, entity, full_name="Mariam Al-Kuwari")


def filter_choices(response):
    """Every choice of every sidebar filter of a changelist, as displayed."""
    return [
        str(choice["display"])
        for spec in response.context["cl"].filter_specs
        for choice in spec.choices(response.context["cl"])
    ]


# ---------------------------------------------------------------------------
# 1. Roles: demo staff can publish; the index says what each role may do and whom to ask
# ---------------------------------------------------------------------------


def test_demo_staff_get_the_actions_their_job_needs(client, settings, lang):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    staff = User.objects.get(email="staff@demo.hukoomi.qa")
    as_user(client, staff, lang)
    actions = client.get(admin_url("poll_changelist")).context["action_form"].fields["action"].choices
    assert {"schedule", "close_now", "publish"} <= {name for name, _label in actions}
    comments = client.get(admin_url("comment_changelist")).context["action_form"].fields["action"].choices
    assert "approve" in {name for name, _label in comments}


def test_the_index_says_what_each_role_may_do_and_whom_to_ask(client, lang, entity, other_entity, staff_a):
    colleague = make_staff(MINISTRY_ADMINS, entity, full_name="Hamad Al-Marri")
    elsewhere = make_staff(MINISTRY_ADMINS, other_entity, full_name="Noor Al-Sada")
    administrator = SuperUserFactory(full_name="Portal Administrator")
    response = as_user(client, staff_a, lang).get("/admin/")
    assert response.status_code == 200
    for group in (MINISTRY_STAFF, MINISTRY_ADMINS, MODERATORS):
        with translation.override(lang):
            assert_shown(response, str(roles.ROLE_NAMES[group]))
            assert_shown(response, str(roles.ROLE_DUTIES[group]))
    with translation.override(lang):
        assert_shown(response, translation.pgettext("staff roles", "You have this role"))
    assert_shown(response, colleague.email)  # the ministry admin of their own ministry
    assert_not_shown(response, elsewhere.email)  # not another ministry's
    assert_shown(response, administrator.email)  # whom to ask for a role
    assert_shown(response, t(lang, "To be given a role, or to have one taken away, ask a portal administrator:"))


def test_staff_who_cannot_schedule_are_told_who_can(client, lang, entity, other_entity, staff_a):
    colleague = make_staff(MINISTRY_ADMINS, entity, full_name="Hamad Al-Marri")
    elsewhere = make_staff(MINISTRY_ADMINS, other_entity)
    response = as_user(client, staff_a, lang).get(admin_url("poll_changelist"))
    assert 'id="schedule-note"' in page(response)
    assert_shown(response, colleague.email)
    assert_not_shown(response, elsewhere.email)
    assert 'id="schedule-note"' not in page(as_user(client, colleague, lang).get(admin_url("poll_changelist")))


# ---------------------------------------------------------------------------
# 2. The state column and filter follow the clock
# ---------------------------------------------------------------------------


def test_the_list_shows_and_filters_the_state_by_the_clock(client, lang, entity, staff_a):
    live = make_poll(entity=entity, title_en="Live poll")  # stored "scheduled", opened yesterday
    upcoming = make_poll(entity=entity, opens_at=timezone.now() + timedelta(days=2), title_en="Upcoming poll")
    past = make_poll(entity=entity, opens_at=timezone.now() - timedelta(days=20), title_en="Past poll")
    draft = make_poll(entity=entity, state=State.DRAFT, title_en="Draft poll")
    assert Poll.objects.get(pk=live.pk).state == State.SCHEDULED
    as_user(client, staff_a, lang)
    response = client.get(admin_url("poll_changelist"))
    with translation.override(lang):
        row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Live poll(?:(?!</tr>).)*</tr>", page(response), re.S).group(0)
        assert f'<td class="field-state_now">{State.OPEN.label}</td>' in row
    expected = {"open": {live}, "scheduled": {upcoming}, "closed": {past}, "draft": {draft}}
    for state, items in expected.items():
        listed = shown_items(client.get(admin_url("poll_changelist"), {"state_now": state}))
        assert {i.pk for i in listed} == {i.pk for i in items}, state


def test_the_change_form_shows_the_state_by_the_clock(client, lang, entity, staff_a):
    live = make_poll(entity=entity)
    response = as_user(client, staff_a, lang).get(admin_url("poll_change", live.pk))
    with translation.override(lang):
        assert re.search(rf'field-state_now.*?<div class="readonly">{State.OPEN.label}</div>', page(response), re.S)


# ---------------------------------------------------------------------------
# 3. The draft preview shows what voters will see
# ---------------------------------------------------------------------------


def test_the_draft_preview_shows_the_ballot_and_when_it_opens(client, lang, entity, staff_a):
    opens = timezone.now() + timedelta(days=10)
    draft = make_poll(entity=entity, state=State.DRAFT, opens_at=opens, questions=2)
    as_user(client, staff_a, lang)
    response = client.get(url(lang, "poll_detail", slug=draft.slug))
    assert response.status_code == 200
    assert_shown(response, t(lang, "Preview: this draft is not public yet."))
    assert_shown(response, t(lang, "Preview of the ballot: what voters will see once it opens"))
    assert_shown(response, t(lang, "Opens on"))
    assert_not_shown(response, t(lang, "Closed on"))
    with translation.override(lang):
        for question in draft.questions.all():
            assert_shown(response, question.text)
            for option in question.options.all():
                assert (
                    f'<label class="form-check-label" for="preview-option-{option.pk}">{option.text}</label>'
                    in page(response)
                )
    # Nothing can be sent: the whole ballot is in a disabled fieldset, and there is no form that posts.
    assert "<fieldset disabled>" in page(response)
    assert 'method="post" class="ballot"' not in page(response)
    client.logout()
    assert client.get(url(lang, "poll_detail", slug=draft.slug)).status_code == 404


def test_the_referendum_preview_shows_its_question_options_and_blank_vote(client, lang, entity, staff_a):
    draft = make_referendum(entity=entity, state=State.DRAFT, opens_at=timezone.now() + timedelta(days=3))
    response = as_user(client, staff_a, lang).get(url(lang, "referendum_detail", slug=draft.slug))
    assert response.status_code == 200
    with translation.override(lang):
        assert_shown(response, draft.questions.get().text)
    for option in ("Yes", "No") if lang == "en" else ("نعم", "لا"):
        assert_shown(response, option)
    assert_shown(response, t(lang, "Blank vote"))
    assert_shown(response, t(lang, "Opens on"))
    assert_not_shown(response, t(lang, "Closed on"))


# ---------------------------------------------------------------------------
# 4. Questions and options on the poll's own page, positions that number themselves
# ---------------------------------------------------------------------------


def nested_poll_form(entity, questions):
    """The poll add form with nested questions and options, for citizens only; positions as typed."""
    return poll_form(entity, questions, slug="nested-poll", title_ar="استطلاع", title_en="Poll", for_residents=None)


def texts(question):
    return [(o.position, o.text_en) for o in question.options.order_by("position")]


def test_questions_and_options_are_added_on_the_polls_own_page_and_number_themselves(client, lang, entity, staff_a):
    questions = [
        ("", "one", [("", "Bus"), ("", "Metro"), ("", "Tram")]),
        ("", "two", [("2", "Later"), ("1", "Sooner")]),
    ]
    response = as_user(client, staff_a, lang).post(admin_url("poll_add"), nested_poll_form(entity, questions))
    assert response.status_code == 302, response.context and response.context["errors"]
    poll = Poll.objects.get(slug="nested-poll")
    first, second = poll.questions.order_by("position")
    assert [first.position, second.position] == [1, 2]
    assert texts(first) == [(1, "Bus"), (2, "Metro"), (3, "Tram")]
    assert texts(second) == [(1, "Sooner"), (2, "Later")]


def change_data(poll, option_rows, question_extra=None):
    """The poll change form as the browser posts it, with the first question's option rows replaced."""
    data = nested_poll_form(poll.entity, [])
    data.update(
        {
            "slug": poll.slug,
            "title_en": poll.title_en,
            **schedule(poll.opens_at, poll.closes_at),
            **management("questions", total=1, initial=1),
        }
    )
    question = poll.questions.get()
    data.update(
        {
            "questions-0-id": str(question.pk),
            "questions-0-item": str(poll.pk),
            "questions-0-position": str(question.position),
            "questions-0-text_ar": question.text_ar,
            "questions-0-text_en": question.text_en,
            "questions-0-kind": "single",
            "questions-0-min_choices": "1",
            "questions-0-max_choices": "1",
            **(question_extra or {}),
        }
    )
    existing = [row for row in option_rows if row[0] is not None]
    data.update(management("questions-0-options", total=len(option_rows), initial=len(existing)))
    for j, (option, position, text) in enumerate(option_rows):
        data.update(
            {
                f"questions-0-options-{j}-question": str(question.pk),
                f"questions-0-options-{j}-position": position,
                # An existing option keeps its Arabic unless its English text is changed here.
                f"questions-0-options-{j}-text_ar": option.text_ar
                if option is not None and text == option.text_en
                else f"خيار {text}",
                f"questions-0-options-{j}-text_en": text,
            }
        )
        if option is not None:
            data[f"questions-0-options-{j}-id"] = str(option.pk)
    data["corrections-TOTAL_FORMS"] = "0"
    data.update(management("corrections"))
    return data


def test_options_can_be_reordered_and_a_new_option_gets_the_next_position(client, lang, entity, staff_a):
    poll = make_poll(entity=entity, state=State.DRAFT, options=2)
    question = poll.questions.get()
    first, second = question.options.order_by("position")
    rows = [(first, "2", first.text_en), (second, "1", second.text_en), (None, "", "Added")]
    response = as_user(client, staff_a, lang).post(admin_url("poll_change", poll.pk), change_data(poll, rows))
    assert response.status_code == 302
    assert texts(question) == [(1, second.text_en), (2, first.text_en), (3, "Added")]


def test_the_options_of_an_opened_poll_stay_as_they_were(client, lang, entity):
    ministry_admin = make_staff(MINISTRY_ADMINS, entity)
    poll = make_poll(entity=entity, options=2)  # open since yesterday
    question = poll.questions.get()
    before = texts(question)
    first, second = question.options.order_by("position")
    rows = [(first, "2", "Changed"), (second, "1", second.text_en), (None, "", "Added")]
    data = change_data(poll, rows)
    response = as_user(client, ministry_admin, lang).post(admin_url("poll_change", poll.pk), data)
    assert response.status_code == 302
    assert texts(question) == before


def test_a_question_without_enough_options_is_refused_on_the_polls_page(client, lang, entity, staff_a):
    response = as_user(client, staff_a, lang).post(
        admin_url("poll_add"), nested_poll_form(entity, [("", "one", [("", "Only")])])
    )
    assert response.status_code == 200
    assert_shown(response, t(lang, "A question needs between %(min)d and %(max)d options.", min=2, max=20))
    assert not Poll.objects.filter(slug="nested-poll").exists()


def test_the_polls_page_offers_options_under_each_question(client, lang, entity, staff_a):
    poll = make_poll(entity=entity, state=State.DRAFT, options=2)
    response = as_user(client, staff_a, lang).get(admin_url("poll_change", poll.pk))
    body = page(response)
    assert 'id="questions-0-options-group"' in body
    assert 'name="questions-0-options-TOTAL_FORMS"' in body
    # New rows come with an empty position, never a default of 1 for all of them.
    assert re.search(r'name="questions-0-options-2-position"(?![^>]*value=)', body)


# ---------------------------------------------------------------------------
# 5. Every filter, autocomplete and count is scoped to the staff member's entities
# ---------------------------------------------------------------------------


@pytest.fixture
def two_ministries(entity, other_entity, citizen):
    ours = make_consultation(entity=entity, title_en="Our strategy", title_ar="استراتيجيتنا")
    theirs = make_consultation(entity=other_entity, title_en="Their secret draft", title_ar="مسودتهم السرية")
    theirs_draft = make_poll(entity=other_entity, state=State.DRAFT, title_en="Their draft poll", title_ar="استطلاعهم")
    also_ours = make_consultation(entity=entity, title_en="Our other strategy", title_ar="استراتيجيتنا الأخرى")
    for item in (ours, also_ours, theirs):
        consultation_service.add_comment(citizen, item, f"About {item.title_en}")
    return ours, theirs, theirs_draft


def assert_nothing_of_b(response, other_entity, theirs, theirs_draft):
    choices = " ".join(filter_choices(response))
    for text in (other_entity.name_ar, other_entity.name_en, theirs.title_ar, theirs.title_en):
        assert text not in choices
        assert_not_shown(response, text)
    for text in (theirs_draft.title_ar, theirs_draft.title_en):
        assert_not_shown(response, text)


def test_the_comment_list_filters_show_only_the_staffs_ministry(client, lang, entity, other_entity, two_ministries):
    ours, theirs, theirs_draft = two_ministries
    moderator = make_staff(MODERATORS, entity)
    response = as_user(client, moderator, lang).get(admin_url("comment_changelist"))
    assert response.status_code == 200
    assert ours.pk in {c.item_id for c in shown_items(response)}
    assert theirs.pk not in {c.item_id for c in shown_items(response)}
    with translation.override(lang):
        assert ours.title in filter_choices(response)  # the item filter is there, with our items only
    assert_nothing_of_b(response, other_entity, theirs, theirs_draft)
    # Facet counts too (the admin's "show counts").
    assert_nothing_of_b(
        client.get(admin_url("comment_changelist"), {"_facets": "True"}), other_entity, theirs, theirs_draft
    )


@pytest.mark.parametrize("model", ["poll", "consultation", "auditentry"])
def test_item_and_audit_list_filters_show_only_the_staffs_ministry(
    client, lang, model, entity, other_entity, two_ministries
):
    _ours, theirs, theirs_draft = two_ministries
    staff = make_staff(MINISTRY_ADMINS, entity)
    # Audit entries are the auditors' (every entity); staff given the right to read them see their own.
    staff.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    response = as_user(client, staff, lang).get(admin_url(f"{model}_changelist"), {"_facets": "True"})
    assert response.status_code == 200
    assert_nothing_of_b(response, other_entity, theirs, theirs_draft)


def test_the_entity_autocomplete_offers_only_the_staffs_ministry(client, lang, entity, other_entity, staff_a):
    response = as_user(client, staff_a, lang).get(
        "/admin/autocomplete/",
        {"app_label": "participation", "model_name": "auditentry", "field_name": "entity", "term": ""},
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(entity.pk)]


def test_superusers_still_filter_by_every_ministry(client, lang, entity, other_entity, two_ministries):
    response = as_user(client, SuperUserFactory(), lang).get(admin_url("comment_changelist"))
    choices = " ".join(filter_choices(response))
    assert (other_entity.name_ar if lang == "ar" else other_entity.name_en) in choices


# ---------------------------------------------------------------------------
# 6. Admin messages read right in Arabic
# ---------------------------------------------------------------------------

DJANGO_ADMIN_MESSAGES = [
    "The {name} “{obj}” was added successfully.",
    "The {name} “{obj}” was added successfully. You may add another {name} below.",
    "The {name} “{obj}” was changed successfully. You may edit it again below.",
    "The {name} “{obj}” was changed successfully. You may add another {name} below.",
    "The {name} “{obj}” was changed successfully.",
    "The %(name)s “%(obj)s” was deleted successfully.",
    "Successfully deleted %(count)d %(items)s.",
    "Items must be selected in order to perform actions on them. No items have been changed.",
    "No action selected.",
    "%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?",
]


@pytest.mark.parametrize("message", DJANGO_ADMIN_MESSAGES)
def test_djangos_admin_messages_have_our_arabic(message):
    with translation.override("ar"):
        arabic = translation.gettext(message)
    assert arabic != message, "no Arabic"
    assert "نجح" not in arabic, "Django's wording (“succeeded”), and after a change it even said “added”"
    if "changed" in message:
        assert "إضافة" not in arabic.split(".")[0], "a change must not be reported as an addition"


@pytest.mark.parametrize("button", ["_save", "_continue"])
def test_after_editing_the_message_says_saved_not_added(client, button, entity, staff_a):
    poll = make_poll(entity=entity, state=State.DRAFT, options=2)
    question = poll.questions.get()
    rows = [(o, str(o.position), o.text_en) for o in question.options.order_by("position")]
    data = change_data(poll, rows)
    data.pop("_save")
    data[button] = "Save"
    response = as_user(client, staff_a, "ar").post(admin_url("poll_change", poll.pk), data, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert messages[0].startswith("تم حفظ التعديلات على استطلاع رأي"), messages
    assert "إضافة" not in messages[0].split(".")[0]
    english = as_user(client, staff_a, "en").post(admin_url("poll_change", poll.pk), data, follow=True)
    assert "was changed successfully" in str(list(english.context["messages"])[0])


# ---------------------------------------------------------------------------
# 7. The brand: portal name, maroon, the site's font, both directions
# ---------------------------------------------------------------------------


def test_the_admin_carries_the_portals_name_colour_and_font(client, lang, staff_a):
    response = as_user(client, staff_a, lang).get("/admin/")
    body = page(response)
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in re.search(r"<html[^>]*>", body).group(0)
    assert "/static/css/admin.css" in body
    assert_shown(response, t(lang, "Hukoomi e-participation"))
    with translation.override(lang):
        assert_shown(response, translation.pgettext("admin branding", "Administration"))
    # The brand lives in tokens.css (shared with the portal's pages); admin.css maps it onto the admin's variables.
    assert body.index("/static/css/tokens.css") < body.index("/static/css/admin.css")
    tokens = Path(settings.BASE_DIR, "static/css/tokens.css").read_text()
    css = Path(settings.BASE_DIR, "static/css/admin.css").read_text()
    assert "--portal-maroon: #8a1538;" in tokens
    assert '--portal-font-family: "IBM Plex Sans Arabic"' in tokens
    assert "ibm-plex-sans-arabic-arabic-400-normal.woff2" in tokens
    assert "--header-bg: var(--portal-maroon);" in css
    assert "--font-family-primary: var(--portal-font-family);" in css


ACTION_MESSAGES = {
    ("%(count)d item has been scheduled.", "%(count)d items have been scheduled."): {
        1: "تمت جدولة بند واحد.",
        2: "تمت جدولة بندين.",
        3: "تمت جدولة 3 بنود.",
        11: "تمت جدولة 11 بنداً.",
        100: "تمت جدولة 100 بند.",
    },
    ("%(count)d item has been closed.", "%(count)d items have been closed."): {
        1: "تم إغلاق بند واحد.",
        2: "تم إغلاق بندين.",
        3: "تم إغلاق 3 بنود.",
        11: "تم إغلاق 11 بنداً.",
        100: "تم إغلاق 100 بند.",
    },
    ("Results or outcome published for %(count)d item.", "Results or outcome published for %(count)d items."): {
        1: "نُشرت نتائج بند واحد أو مخرجاته.",
        2: "نُشرت نتائج بندين أو مخرجاتهما.",
        3: "نُشرت نتائج 3 بنود أو مخرجاتها.",
        11: "نُشرت نتائج 11 بنداً أو مخرجاتها.",
        100: "نُشرت نتائج 100 بند أو مخرجاتها.",
    },
    ("%(count)d comment has been published.", "%(count)d comments have been published."): {
        1: "نُشر تعليق واحد.",
        2: "نُشر تعليقان.",
        3: "نُشرت 3 تعليقات.",
        11: "نُشر 11 تعليقاً.",
        100: "نُشر 100 تعليق.",
    },
}


@pytest.mark.parametrize("messages", list(ACTION_MESSAGES))
def test_the_admins_action_messages_agree_with_their_number_in_arabic(messages):
    singular, plural = messages
    for count, expected in ACTION_MESSAGES[messages].items():
        with translation.override("ar"):
            assert translation.ngettext(singular, plural, count) % {"count": count} == expected
    with translation.override("ar"):
        assert "0" not in translation.ngettext(singular, plural, 0) % {"count": 0}  # never "0 items"


def test_scheduling_says_so_in_arabic_with_the_right_number(client, entity):
    ministry_admin = make_staff(MINISTRY_ADMINS, entity)
    drafts = [make_poll(entity=entity, state=State.DRAFT) for _ in range(2)]
    response = as_user(client, ministry_admin, "ar").post(
        admin_url("poll_changelist"), {"action": "schedule", "_selected_action": [d.pk for d in drafts]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["تمت جدولة بندين."]


def test_an_unchanged_save_writes_no_option_even_with_gaps_in_the_positions(client, entity, staff_a):
    poll = make_poll(entity=entity, state=State.DRAFT, options=2)
    question = poll.questions.get()
    question.options.filter(position=2).update(position=5)  # a gap, as older data may have
    rows = [(o, str(o.position), o.text_en) for o in question.options.order_by("position")]
    response = as_user(client, staff_a, "en").post(admin_url("poll_change", poll.pk), change_data(poll, rows))
    assert response.status_code == 302
    assert [o.position for o in question.options.order_by("position")] == [1, 5]
