"""Scenario 1: a resident signs up, picks a persona, finds an open poll through the picker, votes with
the keyboard alone, sees the confirmation, and cannot vote twice."""

import itertools
import re

import pytest

from accounts.models import User
from participation.models import PollAnswer, PollBallot
from tests.builders import scenarios
from tests.e2e.ui import assert_focus_visible, assert_mirrored, described_by_text, expect, tab_until
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIGNUP_NUMBERS = itertools.count(1)  # serials of the identity numbers people type in
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/(?:ar|en)/accounts/confirm-email/[^/\s]+/)")


def fill_signup(form, *, email, identity_number):
    form.locator("input[name=full_name]").fill("Layla Haddad ليلى حداد")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=segment][value=resident]").check()
    form.locator("input[name=personas][value=parent]").check()
    form.locator("input[name=identity_number]").fill(identity_number)
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)


def test_resident_signs_up_finds_a_poll_through_the_picker_and_votes_once(lang, page, mailoutbox, a11y, t):
    poll = scenarios.open_poll(for_citizens=False, for_residents=True, only_parents=True)
    tourists_only = scenarios.open_poll(
        title_ar="استطلاع السياحة للزوار",
        title_en="Visitors' tourism poll",
        for_visitors=True,
        for_citizens=False,
        for_residents=False,
        only_tourists=True,
    )
    email = f"layla.{lang}@example.qa"
    number = next(SIGNUP_NUMBERS)

    # Home page, in the language of the address, mirrored in Arabic.
    page.goto(f"/{lang}/")
    assert_mirrored(page, lang)
    a11y.check(page, "home")

    # Sign up; a wrong identity number is announced and tied to its field.
    page.locator("header").get_by_role("link", name=t("Create account")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/accounts/signup/"))
    a11y.check(page, "signup")
    form = page.locator("main form").filter(has=page.locator("input[name=password1]"))
    fill_signup(form, email=email, identity_number="12345")
    form.locator("[type=submit]").click()
    summary = page.locator("#error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text(t("A Qatar ID number has 11 digits and starts with 2 or 3."))
    identity = page.locator("input[name=identity_number]")
    expect(identity).to_have_attribute("aria-invalid", "true")
    assert t("A Qatar ID number has 11 digits and starts with 2 or 3.") in described_by_text(identity), (
        "the identity number's error is not tied to the field with aria-describedby"
    )
    summary_link = summary.locator(f'a[href="#{identity.get_attribute("id")}"]')
    expect(summary_link).to_have_count(1)
    a11y.check(page, "signup (with errors)")

    fill_signup(form, email=email, identity_number=f"301356{number:05d}")
    form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/{lang}/accounts/confirm-email/$"))
    a11y.check(page, "verification sent")

    # The verification e-mail, read from the test outbox.
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    message = mailoutbox[0]
    assert message.to == [email]
    link = CONFIRM_LINK.search(message.body)
    assert link, f"no confirmation link in the e-mail:\n{message.body}"
    assert link.group(1).startswith(f"/{lang}/"), "the confirmation link should keep the language of the sign-up"
    page.goto(link.group(1))
    a11y.check(page, "confirm e-mail")
    page.locator("main form [type=submit]").click()
    expect(page.locator("header").get_by_role("button", name=t("Sign out"))).to_be_visible()
    user = User.objects.get(email=email)
    assert (user.segment, user.is_parent, user.preferred_language) == ("resident", True, lang)

    # The persona picker on the home page leads to what is open for a resident parent.
    page.goto(f"/{lang}/")
    page.locator(".picker-group").get_by_role("link", name=t("Resident parent"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/participate/\?segment=resident&persona=parent"))
    expect(page.get_by_role("link", name=poll.title_ar if lang == "ar" else poll.title_en)).to_be_visible()
    expect(page.get_by_text(tourists_only.title_ar if lang == "ar" else tourists_only.title_en)).to_have_count(0)
    a11y.check(page, "participate (resident parent)")
    page.get_by_role("link", name=poll.title_ar if lang == "ar" else poll.title_en).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/polls/{poll.slug}/$"))
    a11y.check(page, "poll")

    # A second tab keeps the ballot open, for the attempt to vote twice below.
    second_tab = page.context.new_page()
    second_tab.goto(f"/{lang}/polls/{poll.slug}/")

    # Sending an empty ballot: the error is announced and tied to the ballot.
    page.get_by_role("button", name=t("Send my vote")).click()
    error = page.locator("#ballot-error")
    expect(page.get_by_role("alert")).to_contain_text(t("Your vote was not counted"))
    expect(error).to_be_visible()
    first_question = poll.questions.get(position=1)
    assert "ballot-error" in (page.locator("form.ballot").get_attribute("aria-describedby") or "").split()
    fieldset = page.locator("fieldset").filter(has=page.locator(f"input[name=question-{first_question.pk}]"))
    assert error.inner_text().strip() in described_by_text(fieldset)
    a11y.check(page, "poll (error)")

    # Voting with the keyboard alone: Tab, Space, Arrow keys, Enter; focus always visible.
    second_question = poll.questions.get(position=2)
    q1 = list(first_question.options.order_by("position"))
    q2 = list(second_question.options.order_by("position"))
    page.locator("main h1").click()  # start from the content, as after following a link
    tab_until(page, lambda f: f["name"] == f"question-{first_question.pk}")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # moves the choice to the next answer
    expect(page.locator(f"#option-{q1[1].pk}")).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(page.locator(f"#option-{q1[0].pk}")).to_be_checked()
    tab_until(page, lambda f: f["id"] == f"option-{q2[0].pk}")
    page.keyboard.press("Space")
    tab_until(page, lambda f: f["id"] == f"option-{q2[2].pk}")
    page.keyboard.press("Space")
    button = tab_until(
        page, lambda f: f["tag"] == "button" and f["type"] == "submit" and t("Send my vote") in f["text"]
    )
    assert_focus_visible(button)
    page.keyboard.press("Enter")

    # The confirmation.
    expect(page).to_have_url(re.compile(rf"/{lang}/polls/{poll.slug}/thanks/$"))
    expect(page.get_by_role("status")).to_contain_text(t("Your vote has been counted"))
    a11y.check(page, "vote confirmation")
    ballot = PollBallot.objects.get(item=poll, voter=user)
    assert ballot.segment == "resident" and ballot.is_parent
    assert sorted(PollAnswer.objects.filter(ballot=ballot).values_list("option_id", flat=True)) == sorted(
        [q1[0].pk, q2[0].pk, q2[2].pk]
    )

    # Voting again from the tab that still shows the ballot is refused.
    second_tab.locator(f"#option-{q1[1].pk}").check()
    second_tab.locator(f"#option-{q2[1].pk}").check()
    with second_tab.expect_response(lambda r: r.request.method == "POST") as refused:
        second_tab.get_by_role("button", name=t("Send my vote")).click()
    assert refused.value.status == 409
    expect(second_tab.get_by_role("alert")).to_contain_text(t("You have already taken part. Thank you."))
    expect(second_tab.locator("form.ballot")).to_have_count(0)
    a11y.check(second_tab, "poll (voted twice)")

    # And the poll page now says so, without a ballot.
    page.goto(f"/{lang}/polls/{poll.slug}/")
    expect(page.locator("#participation-status")).to_contain_text(t("You have already taken part. Thank you."))
    expect(page.locator("form.ballot")).to_have_count(0)
    assert PollBallot.objects.filter(item=poll).count() == 1
    a11y.assert_clean()
