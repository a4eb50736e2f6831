"""Issue 12, ministry staff in the admin, as they walk it: on a desktop in English and on a phone in Arabic.

A member of "Ministry staff" sees on the index what each role may do and whom to ask, writes a poll with its
questions and options on one page (positions left empty number themselves), previews the draft as voters will
see it, is told who schedules it; the list shows the state by the clock; nothing of another ministry appears.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from participation import roles
from participation.models import Poll, State
from participation.services import consultation as consultation_service
from tests.builders import items, scenarios, users
from tests.e2e.ui import admin_sign_in, expect, local
from tests.factories import SuperUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
MAROON = "rgb(138, 21, 56)"


def assert_branded(page):
    """Maroon header and the portal's font, whatever the direction."""
    header = page.locator("#header")
    expect(header).to_have_css("background-color", MAROON)
    assert "IBM Plex Sans Arabic" in page.evaluate("() => getComputedStyle(document.body).fontFamily")


@pytest.mark.parametrize("lang", ["en"])
def test_desktop_english_staff_write_preview_and_hand_over_a_poll(lang, page, new_context, a11y, t):
    ministry = items.make_entity(name_ar="وزارة المواصلات", name_en="Ministry of Transport")
    other = items.make_entity(name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health")
    staff = users.make_staff([roles.MINISTRY_STAFF], ministry, full_name="Mariam Al-Kuwari")
    colleague = users.make_staff([roles.MINISTRY_ADMINS], ministry, full_name="Hamad Al-Marri")
    stranger = users.make_staff([roles.MINISTRY_ADMINS], other, full_name="Noor Al-Sada")
    administrator = SuperUserFactory(full_name="Portal Administrator")
    live = scenarios.open_poll(title_ar="استطلاع مفتوح", title_en="Live poll", entity=ministry)
    scenarios.open_poll(title_ar="استطلاع وزارة أخرى", title_en="Another ministry's poll", entity=other)

    admin_sign_in(page, staff)
    assert_branded(page)
    roles_panel = page.locator("#staff-roles")
    with translation.override(lang):
        expect(roles_panel).to_contain_text(str(roles.ROLE_DUTIES[roles.MINISTRY_ADMINS]))
    expect(roles_panel).to_contain_text(colleague.email)
    expect(roles_panel).to_contain_text(administrator.email)
    expect(roles_panel).not_to_contain_text(stranger.email)
    a11y.check(page, "admin index with roles")

    # A poll with one question and three options, positions left empty; the third option added with its link.
    page.goto("/admin/participation/poll/add/")
    page.locator("#id_entity").select_option(str(ministry.pk))
    for name, value in {
        "title_ar": "مواقف السيارات عند المحطات",
        "title_en": "Parking at stations",
        "summary_ar": "هل تحتاج المحطات إلى مواقف؟",
        "summary_en": "Do stations need parking?",
        "body_ar": "تدرس الوزارة إنشاء مواقف إضافية.",
        "body_en": "The ministry is studying more parking.",
    }.items():
        page.locator(f"#id_{name}").fill(value)
    opens = timezone.now() + timedelta(days=3)
    for name, moment in (("opens_at", opens), ("closes_at", opens + timedelta(days=14))):
        day, time = local(moment)
        page.locator(f"#id_{name}_0").fill(day)
        page.locator(f"#id_{name}_1").fill(time)
    page.locator("#id_slug").fill("parking-at-stations")
    page.locator("#id_questions-0-text_ar").fill("أي المحطات تحتاج مواقف؟")
    page.locator("#id_questions-0-text_en").fill("Which stations need parking?")
    options = [("مشيرب", "Msheireb"), ("الخليج الغربي", "West Bay"), ("الوكرة", "Al Wakra")]
    page.locator("#questions-0-options-group a.djn-add-handler").click()
    for number, (ar, en) in enumerate(options):
        expect(page.locator(f"#id_questions-0-options-{number}-position")).to_have_value("")
        page.locator(f"#id_questions-0-options-{number}-text_ar").fill(ar)
        page.locator(f"#id_questions-0-options-{number}-text_en").fill(en)
    a11y.check(page, "admin poll add, nested options")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    poll = Poll.objects.get(slug="parking-at-stations")
    question = poll.questions.get()
    assert [(o.position, o.text_en) for o in question.options.all()] == [
        (1, "Msheireb"),
        (2, "West Bay"),
        (3, "Al Wakra"),
    ]

    # The preview: what voters will see once it opens, marked as a preview, nothing can be sent.
    page.goto(f"/{lang}/polls/{poll.slug}/")
    expect(page.locator("main")).to_contain_text(t("Preview: this draft is not public yet."))
    expect(page.locator("main")).to_contain_text(t("Opens on"))
    expect(page.locator("main")).not_to_contain_text(t("Closed on"))
    preview = page.locator(".ballot-preview")
    expect(preview.locator("legend")).to_contain_text("Which stations need parking?")
    expect(preview.locator("label")).to_have_text(["Msheireb", "West Bay", "Al Wakra"])
    expect(preview.locator("input[type=radio]").first).to_be_disabled()
    a11y.check(page, "draft preview")

    # The list: the state by the clock, the "open" filter, who schedules, nothing of the other ministry.
    page.goto("/admin/participation/poll/")
    expect(page.locator("#schedule-note")).to_contain_text(colleague.email)
    row = page.locator("#result_list tr").filter(has_text="Live poll")
    expect(row.locator("td.field-state_now")).to_have_text(t("Open"))
    expect(page.locator("#changelist-filter")).not_to_contain_text("Public Health")
    expect(page.locator("#content")).not_to_contain_text("Another ministry's poll")
    a11y.check(page, "admin poll list")
    page.goto("/admin/participation/poll/?state_now=open")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    assert Poll.objects.get(pk=live.pk).state == State.SCHEDULED  # stored; shown as open
    a11y.assert_clean()


@pytest.mark.parametrize("lang", ["ar"])
def test_phone_arabic_staff_edit_options_moderate_and_read_arabic_messages(lang, page, new_context, a11y, t):
    page.set_viewport_size(PHONE)
    ministry = items.make_entity(name_ar="وزارة المواصلات", name_en="Ministry of Transport")
    other = items.make_entity(name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health")
    staff = users.make_staff([roles.MINISTRY_STAFF, roles.MODERATORS], ministry, full_name="مريم الكواري")
    draft = scenarios.draft_poll("مسارات الحافلات", "Bus routes", entity=ministry, opens_in=timedelta(days=5))
    items.add_question(
        draft,
        [("الصباح", "Morning"), ("المساء", "Evening")],
        text_ar="ما الوقت المناسب؟",
        text_en="Which time suits you?",
    )
    ours = scenarios.open_consultation(title_ar="استراتيجية السلامة", title_en="Safety strategy", entity=ministry)
    theirs = scenarios.open_consultation(title_ar="مسودة الصحة السرية", title_en="Secret health draft", entity=other)
    citizen = users.person(verified=True)
    for item in (ours, theirs):
        consultation_service.add_comment(citizen, item, "تعليق")

    admin_sign_in(page, staff)
    assert_branded(page)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    with translation.override(lang):
        expect(page.locator("#staff-roles")).to_contain_text(str(roles.ROLE_NAMES[roles.MODERATORS]))
    a11y.check(page, "admin index on a phone")

    # A fourth option added under the question on the poll's own page: it gets the next position.
    page.goto(f"/admin/participation/poll/{draft.pk}/change/")
    question = draft.questions.get()
    count = question.options.count()
    page.locator("#questions-0-options-group a.djn-add-handler").click()
    page.locator(f"#id_questions-0-options-{count}-text_ar").fill("الليل")
    page.locator(f"#id_questions-0-options-{count}-text_en").fill("Night")
    page.locator("input[name=_continue]").click()
    message = page.locator(".messagelist .success")
    expect(message).to_contain_text("تم حفظ التعديلات على")
    expect(message).not_to_contain_text("نجحت إضافة")
    assert [o.position for o in question.options.all()] == list(range(1, count + 2))
    assert question.options.last().text_en == "Night"
    a11y.check(page, "admin poll change on a phone")

    # The comments: only this ministry's items in the filters, never the other's titles or name.
    page.goto("/admin/participation/comment/")
    expect(page.locator("#content")).not_to_contain_text("مسودة الصحة السرية")
    expect(page.locator("#content")).not_to_contain_text("وزارة الصحة العامة")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    a11y.check(page, "admin comments on a phone")

    # The preview of the draft, in Arabic: "opens on", never "closed on".
    page.goto(f"/{lang}/polls/{draft.slug}/")
    expect(page.locator("main")).to_contain_text(t("Opens on"))
    expect(page.locator("main")).not_to_contain_text(t("Closed on"))
    expect(page.locator(".ballot-preview label").filter(has_text=re.compile("الليل"))).to_have_count(1)
    a11y.check(page, "draft preview on a phone")
    a11y.assert_clean()
