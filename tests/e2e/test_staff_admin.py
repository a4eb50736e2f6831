"""Scenario 2: ministry staff log into /admin/, create a bilingual poll with two questions, schedule it,
and see it open on the public site."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from participation.models import Poll, State
from tests.builders import items, users
from tests.e2e.ui import admin_sign_in, assert_mirrored, expect, local, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTIONS = [
    # (Arabic, English, kind, options)
    (
        "هل تؤيد إنشاء مواقف إضافية عند محطات المترو؟",
        "Do you support more parking at metro stations?",
        "single",
        [("نعم", "Yes"), ("لا", "No")],
    ),
    (
        "أي المحطات تستخدم أكثر؟",
        "Which stations do you use most?",
        "multiple",
        [("محطة مشيرب", "Msheireb station"), ("محطة الخليج الغربي", "West Bay station")],
    ),
]


def ngettext(lang, singular, plural, count):
    with translation.override(lang):
        return translation.ngettext(singular, plural, count) % {"count": count}


def test_staff_create_schedule_and_publish_a_bilingual_poll(lang, page, new_context, a11y, t):
    ministry = items.make_entity(name_ar="وزارة المواصلات", name_en="Ministry of Transport")
    staff = users.make_staff(users.MINISTRY_ADMINS, ministry, full_name="Mariam Al-Kuwari")
    slug = f"metro-parking-{lang}"
    title_ar, title_en = "مواقف السيارات عند محطات المترو", f"Parking at metro stations ({lang})"

    # Log in; the admin speaks the browser's language, right to left in Arabic.
    page.goto("/admin/login/?next=/admin/")
    a11y.check(page, "admin login")
    admin_sign_in(page, staff)
    a11y.check(page, "admin index")

    # The poll, with its questions and their options on its own page.
    page.goto("/admin/participation/poll/add/")
    a11y.check(page, "admin poll add")
    page.locator("#id_entity").select_option(str(ministry.pk))
    page.locator("#id_title_ar").fill(title_ar)
    page.locator("#id_title_en").fill(title_en)
    page.locator("#id_summary_ar").fill("هل تحتاج المحطات إلى مواقف إضافية؟")
    page.locator("#id_summary_en").fill("Do the stations need more parking?")
    page.locator("#id_body_ar").fill("تدرس الوزارة إنشاء مواقف إضافية عند محطات مترو الدوحة.")
    page.locator("#id_body_en").fill("The ministry is studying more parking at Doha Metro stations.")
    now = timezone.now()
    for name, moment in (("opens_at", now - timedelta(hours=1)), ("closes_at", now + timedelta(days=14))):
        day, time = local(moment)
        page.locator(f"#id_{name}_0").fill(day)
        page.locator(f"#id_{name}_1").fill(time)
    page.locator("#id_slug").fill(slug)  # after the title: admin's prepopulate script writes it from the title
    expect(page.locator("#id_slug")).to_have_value(slug)
    # The second question with "Add another", and each question's options right under it on the same page
    # (django-nested-admin), positions left empty: they number themselves when saved.
    page.locator("a.djn-add-handler.djn-model-participation-question").click()
    for index, (text_ar, text_en, kind, options) in enumerate(QUESTIONS):
        page.locator(f"#id_questions-{index}-text_ar").fill(text_ar)
        page.locator(f"#id_questions-{index}-text_en").fill(text_en)
        page.locator(f"#id_questions-{index}-kind").select_option(kind)
        if kind == "multiple":
            page.locator(f"#id_questions-{index}-max_choices").fill("2")
        for number, (option_ar, option_en) in enumerate(options):
            page.locator(f"#id_questions-{index}-options-{number}-text_ar").fill(option_ar)
            page.locator(f"#id_questions-{index}-options-{number}-text_en").fill(option_en)
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    poll = Poll.objects.get(slug=slug)
    assert (poll.state, poll.entity, poll.created_by) == (State.DRAFT, ministry, staff)
    assert [(q.position, q.text_ar, q.text_en, q.kind) for q in poll.questions.order_by("position")] == [
        (n, *q[:3]) for n, q in enumerate(QUESTIONS, start=1)
    ]
    assert [[o.position for o in q.options.all()] for q in poll.questions.all()] == [[1, 2], [1, 2]]
    a11y.check(page, "admin poll change")

    # Schedule it with the changelist action.
    page.goto("/admin/participation/poll/")
    a11y.check(page, "admin poll changelist")
    page.locator(f"input[name=_selected_action][value='{poll.pk}']").check()
    page.locator("select[name=action]").select_option("schedule")
    page.locator("#changelist-form .actions button[type=submit]").click()
    expect(page.locator(".messagelist .success")).to_have_text(
        ngettext(lang, "%(count)d item has been scheduled.", "%(count)d items have been scheduled.", 1)
    )
    poll.refresh_from_db()
    assert poll.state == State.SCHEDULED
    a11y.check(page, "admin poll changelist (scheduled)")

    # The public site: open now, in the reader's language.
    visitor = new_context(lang).new_page()
    title = title_ar if lang == "ar" else title_en
    visitor.goto(f"/{lang}/")
    card = visitor.locator("#opportunities article").filter(has=visitor.get_by_role("link", name=title))
    expect(card).to_contain_text(t("Sign in to take part"))  # the badge of an open item
    a11y.check(visitor, "home")
    visitor.goto(f"/{lang}/participate/?tab=open")
    expect(visitor.get_by_role("link", name=title)).to_be_visible()
    a11y.check(visitor, "participate")

    # A citizen sees the ballot with both questions and their options.
    citizen_page = new_context(lang).new_page()
    sign_in(citizen_page, lang, users.person())
    citizen_page.goto(f"/{lang}/participate/")
    citizen_page.get_by_role("link", name=title).click()
    expect(citizen_page).to_have_url(re.compile(rf"/{lang}/polls/{slug}/$"))
    expect(citizen_page.locator("main h1")).to_have_text(title)
    assert_mirrored(citizen_page, lang)
    fieldsets = citizen_page.locator("form.ballot fieldset")
    expect(fieldsets).to_have_count(2)
    column = 0 if lang == "ar" else 1
    for index, question in enumerate(QUESTIONS):
        expect(fieldsets.nth(index).locator("legend")).to_contain_text(question[column])
        expect(fieldsets.nth(index).locator("label")).to_have_text([option[column] for option in question[3]])
    expect(fieldsets.nth(0).locator("input[type=radio]")).to_have_count(2)
    expect(fieldsets.nth(1).locator("input[type=checkbox]")).to_have_count(2)
    a11y.check(citizen_page, "poll")

    # Back in the admin, the scheduled poll's form opens and shows its state; what is fixed once
    # scheduled (entity, slug, audience) is read-only.
    page.goto("/admin/participation/poll/")
    with page.expect_navigation() as opened:
        page.locator("#result_list").get_by_role("link", name=title_ar).click()
    assert opened.value.status == 200, f"the scheduled poll's admin page answered {opened.value.status}"
    # The state by the clock: it opened an hour ago, so it is open (the stored state says "scheduled").
    expect(page.locator(".field-state_now .readonly")).to_have_text(t("Open"))
    expect(page.locator("#id_slug")).to_have_count(0)
    expect(page.locator(".field-slug .readonly")).to_have_text(slug)
    a11y.check(page, "admin poll change (scheduled)")
    a11y.assert_clean()
