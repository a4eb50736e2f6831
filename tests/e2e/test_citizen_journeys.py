"""Issue 12, the citizens' journeys, on a phone (390 x 844) in Arabic and on a desktop in English: agree and
disagree that show the choice, a refused comment beside its form, "check your answer" before a referendum
vote, results in plain words, the header's menu, and the auditors' page's Latin file names."""

import re

import pytest

from participation.models import ReferendumParticipation, Result, SealedBallot, State
from participation.services import lifecycle, voting
from tests.builders import scenarios, users
from tests.e2e.ui import VIEWPORT, expect, keep_receipt, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
JOURNEYS = [pytest.param("ar", PHONE, id="ar-phone"), pytest.param("en", VIEWPORT, id="en-desktop")]
MAROON = "rgb(138, 21, 56)"


def text(lang, ar, en):
    return ar if lang == "ar" else en


def background(locator):
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


# ---------------------------------------------------------------------------
# Agree / disagree: the choice is visible, with and without JavaScript
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(("lang", "viewport"), JOURNEYS)
def test_agree_and_disagree_show_the_choice(lang, viewport, javascript, new_context, a11y, t):
    consultation = scenarios.open_consultation()
    page = new_context(lang, javascript=javascript, viewport=viewport).new_page()
    sign_in(page, lang, users.person(verified=True), next_path=f"/{lang}/consultations/{consultation.slug}/")
    section = page.locator("#section-1")
    agree, disagree = section.locator("button[value=yes]"), section.locator("button[value=no]")
    assert background(agree) == background(disagree), "before answering, both buttons look the same"
    expect(section.locator(".reaction-own")).to_have_count(0)

    agree.click()
    expect(page).to_have_url(re.compile(rf"/{lang}/consultations/{consultation.slug}/#section-1$"))
    section = page.locator("#section-1")
    agree, disagree = section.locator("button[value=yes]"), section.locator("button[value=no]")
    expect(agree).to_have_attribute("aria-pressed", "true")
    assert background(agree) == MAROON, "the chosen button is filled"
    assert background(disagree) != MAROON
    expect(agree).to_contain_text("✓")
    expect(section.locator(".reaction-own")).to_be_visible()
    expect(section.locator(".reaction-own")).to_contain_text(t("Your view: you agree with this section."))
    expect(page.locator("#section-2 .reaction-own")).to_have_count(0)
    a11y.check(page, "consultation, agreed")

    disagree.click()
    section = page.locator("#section-1")
    expect(section.locator("button[value=no]")).to_have_attribute("aria-pressed", "true")
    assert background(section.locator("button[value=no]")) == MAROON
    assert background(section.locator("button[value=yes]")) != MAROON
    expect(section.locator(".reaction-own")).to_contain_text(t("Your view: you disagree with this section."))
    a11y.check(page, "consultation, disagreed")
    a11y.assert_clean()


# ---------------------------------------------------------------------------
# A refused comment: errors beside the form, on the consultation page, nothing typed lost
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "viewport"), JOURNEYS)
def test_a_refused_comment_comes_back_beside_the_form(lang, viewport, new_context, a11y, t):
    consultation = scenarios.open_consultation()
    section_2 = consultation.sections.get(number=2)
    page = new_context(lang, viewport=viewport).new_page()
    sign_in(page, lang, users.person(verified=True), next_path=f"/{lang}/consultations/{consultation.slug}/")

    page.get_by_role("button", name=t("Send comment")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/consultations/{consultation.slug}/comment/#error-summary$"))
    expect(page.locator("main h1")).to_have_text(text(lang, consultation.title_ar, consultation.title_en))
    expect(page).to_have_title(re.compile(rf"^{re.escape(t('Error:'))} "))
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()  # the form's address ends in #error-summary: focus starts on the problems
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text(t("Write your comment before sending it."))
    expect(page.locator("#id_body_error")).to_contain_text(t("Write your comment before sending it."))
    expect(page.locator("#id_body")).to_have_attribute("aria-invalid", "true")
    a11y.check(page, "comment refused (empty)")
    summary.get_by_role("link").click()
    expect(page.locator("#id_body")).to_be_focused()

    typed = text(lang, "انظروا <b>هنا</b> من فضلكم", "See <b>here</b> please")
    page.locator("#id_section").select_option(str(section_2.pk))
    page.locator("#id_body").fill(typed)
    page.get_by_role("button", name=t("Send comment")).click()
    expect(page.locator("#error-summary")).to_contain_text(
        t("Comments cannot contain HTML. Write plain text, without < and > around words.")
    )
    expect(page.locator("#id_body")).to_have_value(typed)  # what was typed is kept
    expect(page.locator("#id_section")).to_have_value(str(section_2.pk))

    page.locator("#id_body").fill(text(lang, "اقتراح جيد، مع تحفظ بسيط.", "A good proposal, with one reservation."))
    page.get_by_role("button", name=t("Send comment")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/consultations/{consultation.slug}/#comments$"))
    expect(page.locator(".messages")).to_contain_text(
        t("Thank you. Your comment will appear once a moderator has approved it.")
    )
    a11y.check(page, "comment sent")
    a11y.assert_clean()


# ---------------------------------------------------------------------------
# A referendum: check your answer, change it, cast it, keep the receipt
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "viewport"), JOURNEYS)
def test_check_your_answer_before_the_referendum_vote(lang, viewport, new_context, a11y, t):
    referendum = scenarios.open_referendum()
    yes, no = referendum.questions.get().options.order_by("position")
    page = new_context(lang, viewport=viewport).new_page()
    sign_in(page, lang, users.person(verified=True), next_path=f"/{lang}/referendums/{referendum.slug}/")

    page.get_by_role("radio", name=text(lang, no.text_ar, no.text_en), exact=True).check()
    page.get_by_role("button", name=t("Continue")).click()
    expect(page.locator("main h1")).to_have_text(t("Check your answer before you vote"))
    expect(page.locator("[data-chosen]")).to_have_text(text(lang, no.text_ar, no.text_en))
    assert not (ReferendumParticipation.objects.exists() or SealedBallot.objects.exists()), "the check step wrote"
    a11y.check(page, "check your answer")

    # Change: back to the form with the answer ticked; choose another.
    page.get_by_role("button", name=f"{t('Change')} {t('your answer')}").click()
    expect(page.get_by_role("radio", name=text(lang, no.text_ar, no.text_en), exact=True)).to_be_checked()
    page.get_by_role("radio", name=text(lang, yes.text_ar, yes.text_en), exact=True).check()
    page.get_by_role("button", name=t("Continue")).click()
    expect(page.locator("[data-chosen]")).to_have_text(text(lang, yes.text_ar, yes.text_en))
    assert not SealedBallot.objects.exists()

    page.get_by_role("button", name=t("Cast my vote")).click()
    keep_receipt(page, t)
    assert SealedBallot.objects.filter(item=referendum).count() == 1  # one write, by "Cast my vote"
    assert ReferendumParticipation.objects.filter(item=referendum).count() == 1
    a11y.check(page, "receipt")
    a11y.assert_clean()


# ---------------------------------------------------------------------------
# Results: the sentence first, the digest for auditors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "viewport"), JOURNEYS)
def test_results_say_who_won_and_keep_the_digest_for_auditors(lang, viewport, new_context, a11y, t):
    referendum = scenarios.open_referendum()
    yes, no = referendum.questions.get().options.order_by("position")
    for option in (yes, yes, no, None):
        voting.cast_referendum_ballot(
            users.person(verified=True), referendum, voting.ABSTAIN if option is None else option.pk
        )
    assert lifecycle.close_item(referendum.pk)
    referendum.refresh_from_db()
    assert referendum.state == State.PUBLISHED
    digest = Result.objects.get(item=referendum).ballots_digest

    page = new_context(lang, viewport=viewport).new_page()
    page.goto(f"/{lang}/referendums/{referendum.slug}/results/")
    headline = page.locator(".results-headline")
    expect(headline).to_have_text(
        text(
            lang,
            "فازت الإجابة «نعم» بنسبة 66.7٪ من الأصوات الصحيحة (2 من أصل 3 أصوات صحيحة).",
            "“Yes” won with 66.7 % of valid votes (2 of 3 valid votes).",
        )
    )
    assert headline.bounding_box()["y"] < page.locator("#results-title").bounding_box()["y"], "the sentence comes first"
    expect(page.get_by_text(digest)).to_be_hidden()  # folded away ...
    page.locator("#for-auditors summary").click()
    expect(page.get_by_text(digest)).to_be_visible()  # ... in the auditors' disclosure
    expect(page.locator("#for-auditors")).to_contain_text("verify_referendum.py")
    a11y.check(page, "referendum results")
    a11y.assert_clean()


# ---------------------------------------------------------------------------
# The header on a phone, and the "Sign in to take part" badge
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(("lang", "viewport"), JOURNEYS)
def test_the_header_is_one_line_on_a_phone_and_its_menu_works_without_javascript(
    lang, viewport, javascript, new_context, a11y, t
):
    scenarios.open_poll()
    page = new_context(lang, javascript=javascript, viewport=viewport).new_page()
    page.goto(f"/{lang}/participate/")
    header = page.locator("header.portal-header").bounding_box()
    menu_button = page.locator("summary.portal-menu-button")
    wide_links = page.locator(".portal-nav-wide")
    print(f"[{lang} {viewport['width']}x{viewport['height']} js={javascript}] header height {header['height']:.0f} px")
    assert header["height"] < 80, f"the header is {header['height']} px high"
    expect(page.locator("header .language-switch")).to_be_visible()

    # The "Sign in to take part" badge: at least 14 px.
    badge = page.locator(".badge", has_text=t("Sign in to take part")).first
    expect(badge).to_be_visible()
    size = float(badge.evaluate("el => getComputedStyle(el).fontSize").removesuffix("px"))
    print(f"[{lang}] badge font size {size} px")
    assert size >= 14, f"the badge's text is {size} px"

    if viewport == PHONE:
        expect(wide_links).to_be_hidden()
        expect(menu_button).to_be_visible()
        expect(menu_button).to_contain_text(t("Menu"))
        take_part = page.locator(".portal-nav-narrow").get_by_role("link", name=t("Take part"), exact=True)
        expect(take_part).to_be_hidden()
        menu_button.click()
        expect(take_part).to_be_visible()
        a11y.check(page, "phone menu open")
        page.locator(".portal-nav-narrow").get_by_role("link", name=t("About e-participation")).click()
        expect(page).to_have_url(re.compile(rf"/{lang}/about/$"))
        assert page.locator("header.portal-header").bounding_box()["height"] < 80
    else:
        expect(menu_button).to_be_hidden()
        expect(wide_links.get_by_role("link", name=t("Take part"), exact=True)).to_be_visible()
        a11y.check(page, "desktop header")
    a11y.assert_clean()


# ---------------------------------------------------------------------------
# The auditors' page: ".sha256" reads left to right inside Arabic
# ---------------------------------------------------------------------------

DOT_BEFORE_NAME = """el => {
  const node = el.firstChild;
  const range = document.createRange();
  range.setStart(node, 0); range.setEnd(node, 1);
  const dot = range.getBoundingClientRect();
  range.setStart(node, 1); range.setEnd(node, 2);
  const s = range.getBoundingClientRect();
  return {text: node.textContent, dotLeft: dot.left, sLeft: s.left, direction: getComputedStyle(el).direction};
}"""


@pytest.mark.parametrize(("lang", "viewport"), JOURNEYS)
def test_the_auditors_page_shows_sha256_file_names_the_right_way_round(lang, viewport, new_context, a11y, t):
    poll = scenarios.open_poll()
    first_options = {q.pk: [q.options.order_by("position").first().pk] for q in poll.questions.all()}
    voting.cast_poll_ballot(users.person(), poll, first_options)
    assert lifecycle.close_item(poll.pk)
    page = new_context(lang, viewport=viewport).new_page()
    sign_in(page, lang, users.auditor(), next_path=f"/{lang}/audit/")
    expect(page.locator("main h1")).to_have_text(t("Audit exports"))
    names = page.locator("main bdi", has_text=re.compile(r"^\.sha256$"))
    assert names.count() >= 2
    for i in range(names.count()):
        shown = names.nth(i).evaluate(DOT_BEFORE_NAME)
        assert shown["text"] == ".sha256" and shown["direction"] == "ltr", shown
        assert shown["dotLeft"] < shown["sLeft"], f"the dot is drawn after “sha256”: {shown}"
    expect(page.locator("main")).not_to_contain_text("manage.py verify_export")
    expect(page.get_by_role("link", name=t("The verifier (Python 3, standard library only)"))).to_have_attribute(
        "href", re.compile(r"verify_referendum\.py$")
    )
    a11y.check(page, "auditors' page")
    a11y.assert_clean()
