"""The Content-Security-Policy (no 'unsafe-inline') breaks nothing: public pages with their scripts, and the
Django admin's item forms with inlines, "Add another" and the date and time widgets.

Chromium reports each refused script or style on the console ("Refused to ... because it violates the
following Content Security Policy directive"); any such line fails the test.
"""

import re
from datetime import timedelta

import pytest

from participation.models import PageFeedback
from tests.builders import scenarios
from tests.e2e.ui import admin_sign_in, expect
from tests.factories import SuperUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_policy(page):
    """Collect what the browser refused under the page's Content-Security-Policy."""
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return refused


def test_public_pages_and_the_feedback_script_work_under_the_policy(lang, page, t):
    refused = watch_policy(page)
    poll = scenarios.open_poll()
    consultation = scenarios.open_consultation()
    for path in (
        f"/{lang}/",
        f"/{lang}/participate/",
        poll.get_absolute_url(),
        consultation.get_absolute_url(),
        f"/{lang}/accounts/signup/",
        f"/{lang}/accounts/login/",
    ):
        response = page.goto(path)
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        expect(page.locator("main")).to_be_visible()

    # The feedback widget's script (static/js/feedback.js) runs: the answer is sent without a reload.
    page.goto(f"/{lang}/about/")
    page.evaluate("() => { window.__samePage = true; }")
    with page.expect_response(lambda r: r.url.endswith(f"/{lang}/feedback/")) as answer:
        page.locator("[data-feedback-widget]").get_by_role("button", name=t("Yes"), exact=True).click()
    assert answer.value.status == 200
    expect(page.locator("[data-feedback-widget] [role=status]")).to_have_text(t("Thank you for your feedback."))
    assert page.evaluate("() => window.__samePage") is True
    assert PageFeedback.objects.count() == 1
    assert refused == []


def test_admin_item_forms_inlines_and_date_widgets_work_under_the_policy(lang, page):
    refused = watch_policy(page)
    admin = SuperUserFactory(preferred_language=lang)
    # Scheduled but not open yet: once an item opens, its questions and sections are frozen (no "Add another").
    poll = scenarios.open_poll(opens_in=timedelta(days=2))
    consultation = scenarios.open_consultation(opens_in=timedelta(days=2))
    page.set_extra_http_headers({"Accept-Language": lang})
    admin_sign_in(page, admin)

    # The poll's change form: its questions inline, "Add another", the calendar and the clock.
    response = page.goto(f"/admin/participation/poll/{poll.pk}/change/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    # Questions and their options are nested inlines (django-nested-admin): its script adds the rows.
    questions = page.locator("#questions-group [id^=id_questions-][id$=-text_en]:not([id*=options]):not([id*=empty])")
    before = questions.count()
    page.locator("a.djn-add-handler.djn-model-participation-question").click()
    expect(questions).to_have_count(before + 1)
    options = page.locator("#questions-0-options-group [id$=-text_en]:not([id*=empty])")
    before = options.count()
    page.locator("#questions-0-options-group a.djn-add-handler").click()
    expect(options).to_have_count(before + 1)
    page.locator("#id_opens_at_0").fill("")
    shortcuts = page.locator("#id_opens_at_0 ~ .datetimeshortcuts")
    link = shortcuts.locator("a[id^=calendarlink]")
    link.click()
    calendar = page.locator(f"#calendarbox{link.get_attribute('id').removeprefix('calendarlink')}")
    expect(calendar).to_be_visible()
    calendar.locator(".calendar-shortcuts a").nth(1).click()  # "Today"
    expect(page.locator("#id_opens_at_0")).to_have_value(re.compile(r"\d{4}-\d{2}-\d{2}"))
    clock = page.locator("#id_opens_at_1 ~ .datetimeshortcuts a[id^=clocklink]")
    clock.click()
    expect(page.locator(f"#clockbox{clock.get_attribute('id').removeprefix('clocklink')}")).to_be_visible()

    assert refused == [], refused

    # The consultation's change form: its sections inline, and the PDF field.
    page.goto(f"/admin/participation/consultation/{consultation.pk}/change/")
    expect(page.locator("#id_attachment")).to_be_attached()
    page.locator("a.djn-add-handler.djn-model-participation-section").click()
    # A change list with a date hierarchy and filters, and our own template (page feedback summary).
    page.goto("/admin/participation/pagefeedback/")
    expect(page.locator("#feedback-summary")).to_be_visible()
    assert page.locator("#feedback-summary").evaluate("el => getComputedStyle(el).marginBottom") != "0px", (
        "static/css/admin.css did not load"
    )
    assert refused == []
