"""Scenario 6: the feedback widget answered with JavaScript (no page reload), and the whole voting flow,
feedback included, with JavaScript disabled."""

import re

import pytest

from accounts.models import Persona
from participation.models import PageFeedback, PollAnswer, PollBallot
from tests.builders import scenarios, users
from tests.e2e.ui import assert_mirrored, expect, sign_in, tab_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_feedback_widget_answers_without_reloading_the_page(lang, page, a11y, t):
    page.goto(f"/{lang}/about/")
    assert_mirrored(page, lang)
    a11y.check(page, "about")
    page.evaluate("() => { window.__samePage = true; }")
    widget = page.locator("[data-feedback-widget]")
    expect(widget).to_have_attribute("aria-live", "polite")
    expect(widget.get_by_role("heading")).to_have_text(t("Is this easy to understand?"))

    # "No": the widget asks why, in place, and moves the focus to the first reason.
    with page.expect_response(lambda r: r.url.endswith(f"/{lang}/feedback/") and r.request.method == "POST") as answer:
        widget.get_by_role("button", name=t("No"), exact=True).click()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"].startswith("application/json")
    widget = page.locator("[data-feedback-widget]")
    expect(widget.locator("input[name=reason]")).to_have_count(5)
    assert page.evaluate("() => window.__samePage") is True, "the page reloaded"
    # The focus moves into the new step: its message (role=status) or its first reason.
    focused = page.evaluate(
        "() => { const el = document.activeElement; const w = document.querySelector('[data-feedback-widget]');"
        " return {inside: w.contains(el), role: el.getAttribute('role'), name: el.getAttribute('name')}; }"
    )
    assert focused["inside"] and (focused["role"] == "status" or focused["name"] == "reason"), focused
    a11y.check(page, "about (feedback reason)")

    # The reason, with the keyboard, then "Send": thanks, still on the same page.
    if focused["name"] != "reason":
        tab_until(page, lambda f: f["name"] == "reason")
    page.keyboard.press("ArrowDown")  # second reason: information is missing
    expect(widget.locator("input[name=reason][value=missing]")).to_be_checked()
    widget.get_by_label(t("Tell us more (optional)")).fill("لا أجد مواعيد التطبيق / the dates are missing")
    with page.expect_response(lambda r: r.url.endswith(f"/{lang}/feedback/reason/")) as reason:
        widget.get_by_role("button", name=t("Send")).click()
    assert reason.value.status == 200
    thanks = page.locator("[data-feedback-widget] [role=status]")
    expect(thanks).to_have_text(t("Thank you for your feedback."))
    expect(thanks).to_be_focused()
    assert page.evaluate("() => window.__samePage") is True, "the page reloaded"
    expect(page).to_have_url(re.compile(rf"/{lang}/about/$"))
    a11y.check(page, "about (feedback thanks)")

    feedback = PageFeedback.objects.get()
    assert (feedback.path, feedback.language, feedback.is_easy, feedback.reason) == ("/about/", lang, False, "missing")
    assert feedback.reason_text == "لا أجد مواعيد التطبيق / the dates are missing"

    # The answer is remembered for the session: a reload shows the thanks, not the question.
    page.reload()
    expect(page.locator("[data-feedback-widget]")).to_contain_text(t("Thank you for your feedback."))
    expect(page.locator("[data-feedback-widget] form")).to_have_count(0)
    a11y.assert_clean()


def test_whole_voting_flow_without_javascript(lang, new_context, a11y, t):
    page = new_context(lang, javascript=False).new_page()
    poll = scenarios.open_poll(for_citizens=True, for_residents=False, only_parents=True)
    voter = users.person(personas=[Persona.PARENT])
    title = poll.title_ar if lang == "ar" else poll.title_en
    first, second = poll.questions.order_by("position")

    page.goto(f"/{lang}/")
    assert_mirrored(page, lang)
    sign_in(page, lang, voter)

    # Home, picker, list, poll: plain links and forms.
    page.goto(f"/{lang}/")
    page.locator(".picker-group").get_by_role("link", name=t("Citizen parent"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/participate/\?segment=citizen&persona=parent"))
    a11y.check(page, "participate (no JavaScript)")
    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/polls/{poll.slug}/$"))
    a11y.check(page, "poll (no JavaScript)")

    # Choosing by clicking the labels, then sending: an ordinary form post.
    support = first.options.get(position=2)
    times = list(second.options.filter(position__in=[2, 3]))
    page.get_by_text(support.text_ar if lang == "ar" else support.text_en, exact=True).click()
    for option in times:
        page.get_by_text(option.text_ar if lang == "ar" else option.text_en, exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name=t("Send my vote")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/polls/{poll.slug}/thanks/$"))
    expect(page.get_by_role("status").first).to_contain_text(t("Your vote has been counted"))
    a11y.check(page, "vote confirmation (no JavaScript)")
    ballot = PollBallot.objects.get(item=poll, voter=voter)
    assert sorted(PollAnswer.objects.filter(ballot=ballot).values_list("option_id", flat=True)) == sorted(
        [support.pk, *(o.pk for o in times)]
    )

    # The feedback widget without JavaScript: each answer is a page load that comes back to #feedback.
    widget = page.locator("[data-feedback-widget]")
    with page.expect_navigation():
        widget.get_by_role("button", name=t("No"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/polls/{poll.slug}/thanks/#feedback$"))
    widget = page.locator("[data-feedback-widget]")
    widget.get_by_label(t("The wording is hard to follow")).check()
    a11y.check(page, "vote confirmation, feedback reason (no JavaScript)")
    with page.expect_navigation():
        widget.get_by_role("button", name=t("Send")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/polls/{poll.slug}/thanks/#feedback$"))
    expect(page.locator("[data-feedback-widget]")).to_contain_text(t("Thank you for your feedback."))
    feedback = PageFeedback.objects.get()
    assert (feedback.path, feedback.language, feedback.is_easy, feedback.reason) == (
        f"/polls/{poll.slug}/thanks/",
        lang,
        False,
        "unclear",
    )

    # Voting twice is refused without JavaScript too.
    page.goto(f"/{lang}/polls/{poll.slug}/")
    expect(page.locator("#participation-status")).to_contain_text(t("You have already taken part. Thank you."))
    expect(page.locator("form.ballot")).to_have_count(0)
    assert PollBallot.objects.filter(item=poll).count() == 1
    a11y.assert_clean()
