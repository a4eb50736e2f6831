"""Scenario 3: a verified citizen votes in a referendum, keeps the receipt, and after the tally finds it on
the public receipt list; the results page shows the chart."""

import re

import pytest

from participation.models import ReferendumBallot, Result, State
from participation.services import lifecycle, voting
from tests.builders import scenarios, users
from tests.e2e.ui import assert_mirrored, expect, keep_receipt, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECEIPT = re.compile(r"^[A-Z2-7]{1,4}(-[A-Z2-7]{1,4}){3,}$")  # base32 in groups, for reading aloud


def test_verified_citizen_votes_keeps_the_receipt_and_finds_it_after_the_tally(lang, page, a11y, t):
    referendum = scenarios.open_referendum()
    question = referendum.questions.get()
    yes, no = question.options.order_by("position")
    voter = users.person(verified=True)
    for other, option in ((users.person(verified=True), no), (users.person(verified=True), None)):
        voting.cast_referendum_ballot(other, referendum, voting.ABSTAIN if option is None else option.pk)
    title = referendum.title_ar if lang == "ar" else referendum.title_en

    sign_in(page, lang, voter, next_path=f"/{lang}/referendums/{referendum.slug}/")
    expect(page).to_have_url(re.compile(rf"/{lang}/referendums/{referendum.slug}/$"))
    expect(page.locator("main h1")).to_have_text(title)
    a11y.check(page, "referendum")

    # The secret ballot: choose, check the answer, cast it, get a receipt shown once.
    page.get_by_role("radio", name=yes.text_ar if lang == "ar" else yes.text_en, exact=True).check()
    page.get_by_role("button", name=t("Continue")).click()
    expect(page.locator("main h1")).to_have_text(t("Check your answer before you vote"))
    expect(page.locator("[data-chosen]")).to_have_text(yes.text_ar if lang == "ar" else yes.text_en)
    page.get_by_role("button", name=t("Cast my vote")).click()
    # The receipt is in the answer to the vote itself (never in the session): copy, print or download it.
    expect(page).to_have_url(re.compile(rf"/{lang}/referendums/{referendum.slug}/$"))
    receipt = keep_receipt(page, t)
    assert RECEIPT.match(receipt), receipt
    a11y.check(page, "referendum receipt")
    page.goto(f"/{lang}/referendums/{referendum.slug}/")  # shown once: the portal never kept it
    expect(page.locator(".receipt-code")).to_have_count(0)
    expect(page.locator("#participation-status")).to_contain_text(t("You have already taken part. Thank you."))

    # Before the tally there is no receipt list and no result.
    page.goto(f"/{lang}/referendums/{referendum.slug}/receipts/")
    expect(page.get_by_role("status")).to_contain_text(
        t("The receipt list appears when the results of this referendum are published.")
    )
    a11y.check(page, "receipt list (not yet)")

    # The referendum closes; the tally runs (Celery runs eagerly in tests), opens the box and publishes the results.
    assert lifecycle.close_item(referendum.pk)
    referendum.refresh_from_db()
    assert referendum.state == State.PUBLISHED
    result = Result.objects.get(item=referendum)
    assert result.ballots == 3
    assert ReferendumBallot.objects.filter(item=referendum, receipt=receipt, option=yes).exists()

    # The receipt is on the public list, and the check says so.
    page.goto(f"/{lang}/referendums/{referendum.slug}/")
    page.get_by_role("link", name=t("Check your receipt on the public receipt list")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/referendums/{referendum.slug}/receipts/$"))
    expect(page.locator("main li.receipt-code")).to_have_count(3)
    expect(page.locator("main li.receipt-code").filter(has_text=receipt)).to_have_count(1)
    a11y.check(page, "receipt list")
    for typed in (receipt, receipt.lower().replace("-", " ")):  # as shown, then as someone might type it
        page.get_by_label(t("Check your receipt code")).fill(typed)
        page.get_by_role("button", name=t("Check"), exact=True).click()
        expect(page.locator("#receipt-result")).to_have_attribute("role", "status")
        expect(page.locator("#receipt-result")).to_contain_text(
            t("Your receipt is on the list: your vote was counted.")
        )
    a11y.check(page, "receipt list (checked)")
    page.get_by_label(t("Check your receipt code")).fill("AAAA-BBBB-CCCC-DDDD-EEEE")
    page.get_by_role("button", name=t("Check"), exact=True).click()
    expect(page.locator("#receipt-result")).to_contain_text(
        t("This code is not on the list. Check that you typed it exactly as it was shown.")
    )

    # The results page shows the chart: one bar per answer, as wide as its share, mirrored in Arabic.
    page.goto(f"/{lang}/referendums/{referendum.slug}/results/")
    assert_mirrored(page, lang)
    chart = page.locator("section.results")
    expect(chart.locator("figure figcaption")).to_contain_text(question.text_ar if lang == "ar" else question.text_en)
    rows = chart.locator("table.results-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("th")).to_have_text(
        [yes.text_ar, no.text_ar, t("Blank vote")] if lang == "ar" else [yes.text_en, no.text_en, t("Blank vote")]
    )
    bars = chart.locator("svg.result-bar-svg rect.result-bar-rect")
    expect(bars).to_have_count(3)
    widths = [float(bars.nth(i).get_attribute("width").rstrip("%")) for i in range(3)]
    assert widths == [pytest.approx(33.3, abs=0.1)] * 3, widths
    drawn = [bars.nth(i).bounding_box()["width"] for i in range(3)]
    assert all(w > 10 for w in drawn), f"the bars are not drawn: {drawn}"
    transform = chart.locator("svg.result-bar-svg").first.evaluate("svg => getComputedStyle(svg).transform")
    if lang == "ar":
        assert transform.startswith("matrix(-1"), f"the bars should grow from the right in Arabic: {transform}"
    else:
        assert transform in ("none", "matrix(1, 0, 0, 1, 0, 0)"), transform
    expect(page.locator("#for-auditors")).to_contain_text(result.ballots_digest)
    a11y.check(page, "referendum results")
    a11y.assert_clean()
