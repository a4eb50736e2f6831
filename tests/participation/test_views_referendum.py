"""The referendum page in both languages: states, the secret ballot, the receipt and the public receipt list."""

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
import time_machine
from django.utils import timezone
from django.utils.html import escape

from participation.models import Item, ReferendumBallot, ReferendumParticipation, SealedBallot, State
from participation.rules import Barrier
from participation.services import counting, voting
from tests.builders.items import make_poll, make_referendum, sealed_ballots
from tests.factories import UserFactory, VerifiedUserFactory

from .conftest import assert_not_shown, assert_page_language, assert_shown, page, t, url

pytestmark = pytest.mark.django_db

BALLOT_FORM = '<form method="post" class="ballot"'
YES_EN, NO_EN = "Yes, ban them", "No, keep them"


@pytest.fixture
def referendum(entity):
    return make_referendum(entity=entity, options=[("نعم، امنعوها", YES_EN), ("لا، أبقوها", NO_EN)])


def option(referendum, position):
    return referendum.questions.get().options.get(position=position)


def detail(client, lang, referendum, choice=None):
    address = url(lang, "referendum_detail", slug=referendum.slug)
    return client.post(address, {"choice": choice}) if choice is not None else client.get(address)


def nothing_written():
    return not (
        ReferendumParticipation.objects.exists() or SealedBallot.objects.exists() or ReferendumBallot.objects.exists()
    )


def close_and_publish(referendum):
    """Move past closing, count as the worker does, and publish; returns the moment used."""
    moment = referendum.closes_at + timedelta(hours=1)
    with time_machine.travel(moment, tick=False):
        counting.tally_and_publish(referendum.pk)
    return moment


# ---------------------------------------------------------------------------
# States
# ---------------------------------------------------------------------------


def test_someone_signed_out_gets_a_sign_in_link_back_here(client, lang, referendum):
    response = detail(client, lang, referendum)
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert_shown(response, t(lang, Barrier.NOT_LOGGED_IN.message))
    assert f'href="/{lang}/accounts/login/?next=/{lang}/referendums/{referendum.slug}/"' in page(response)
    assert BALLOT_FORM not in page(response)


def test_an_unverified_citizen_is_told_their_identity_must_be_verified(client, lang, referendum, unverified_citizen):
    client.force_login(unverified_citizen)
    response = detail(client, lang, referendum)
    assert response.status_code == 200
    assert_shown(response, t(lang, Barrier.NOT_VERIFIED.message))
    assert BALLOT_FORM not in page(response)


def test_a_verified_citizen_sees_the_options_and_the_blank_vote(client, lang, referendum, citizen):
    client.force_login(citizen)
    response = detail(client, lang, referendum)
    assert response.status_code == 200
    assert_page_language(response, lang)
    body = page(response)
    assert body.count(BALLOT_FORM) == 1
    for position in (1, 2):
        assert f'value="{option(referendum, position).pk}"' in body
    assert 'value="abstain"' in body
    assert_shown(response, t(lang, "Blank vote"))
    if lang == "en":
        assert YES_EN in body


def test_no_blank_vote_unless_offered(client, lang, citizen):
    referendum = make_referendum(allow_abstain=False)
    client.force_login(citizen)
    assert 'value="abstain"' not in page(detail(client, lang, referendum))


def test_not_yet_open_and_closed(client, lang, citizen):
    upcoming = make_referendum(opens_at=timezone.now() + timedelta(days=1))
    finished = make_referendum(results_need_approval=True)
    client.force_login(citizen)
    assert_shown(detail(client, lang, upcoming), t(lang, Barrier.NOT_YET_OPEN.message))
    with time_machine.travel(finished.closes_at + timedelta(seconds=1), tick=False):
        client.force_login(citizen)
        response = detail(client, lang, finished)
    assert_shown(response, t(lang, Barrier.CLOSED.message))
    assert_shown(response, t(lang, "The results will appear here once they are published."))
    assert BALLOT_FORM not in page(response)


def test_a_draft_is_404_to_the_public(client, lang, citizen):
    draft = make_referendum(state=State.DRAFT)
    client.force_login(citizen)
    for name in ("referendum_detail", "referendum_results", "referendum_receipts"):
        assert client.get(url(lang, name, slug=draft.slug)).status_code == 404
    assert detail(client, lang, draft, option(draft, 1).pk).status_code == 404
    assert nothing_written()


# ---------------------------------------------------------------------------
# Voting and the receipt
# ---------------------------------------------------------------------------


def test_voting_shows_the_receipt_once_in_the_answer_to_the_vote(client, lang, referendum, citizen):
    client.force_login(citizen)
    response = detail(client, lang, referendum, option(referendum, 1).pk)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (ballot,) = sealed_ballots(referendum)
    assert ballot.option_id == option(referendum, 1).pk
    assert not ReferendumBallot.objects.exists()  # sealed until the tally
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "Your vote has been counted"))
    assert_shown(response, t(lang, "Your receipt code"))
    assert ballot.receipt in page(response)
    assert_shown(response, t(lang, "Copy the code"))
    assert_shown(response, t(lang, "Print"))
    assert_shown(response, t(lang, "Download the code"))
    # The download link carries the code itself: nothing is kept on the server to fetch it again.
    assert f'download="receipt-{referendum.slug}.txt"' in page(response)
    assert ballot.receipt in unquote(page(response).split('href="data:text/plain;charset=utf-8,')[1].split('"')[0])
    assert ballot.receipt not in str(dict(client.session))
    again = client.get(url(lang, "referendum_detail", slug=referendum.slug))
    assert ballot.receipt not in page(again)


def test_someone_who_voted_is_reminded_to_keep_their_receipt(client, lang, referendum, citizen):
    voting.cast_referendum_ballot(citizen, referendum, "abstain")
    client.force_login(citizen)
    response = detail(client, lang, referendum)
    assert response.status_code == 200
    assert_shown(response, t(lang, Barrier.ALREADY_TOOK_PART.message))
    assert_shown(
        response,
        t(
            lang,
            "Keep the receipt code you were given. After the results are published you can check that it is on the public receipt list.",
        ),
    )
    assert BALLOT_FORM not in page(response)
    assert sealed_ballots(referendum)[0].receipt not in page(response)


def test_voting_again_gets_a_friendly_409_and_nothing_more_is_written(client, lang, referendum, citizen):
    client.force_login(citizen)
    detail(client, lang, referendum, option(referendum, 1).pk)
    response = detail(client, lang, referendum, option(referendum, 2).pk)
    assert response.status_code == 409
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "Your vote was not counted"))
    assert_shown(response, t(lang, Barrier.ALREADY_TOOK_PART.message))
    assert ReferendumParticipation.objects.count() == 1
    assert [b.option_id for b in sealed_ballots(referendum)] == [option(referendum, 1).pk]


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("", "Choose one of the answers shown."),
        ("424242", "Choose one of the answers shown."),
        ("1; DROP TABLE", "Choose one of the answers shown."),
        ("9" * 40, "Choose one of the answers shown."),
        ("other referendum", "Choose one of the answers shown."),
        ("poll option", "Choose one of the answers shown."),
    ],
)
def test_a_bad_choice_is_a_400_with_a_clear_message_and_nothing_is_written(
    client, lang, referendum, citizen, choice, message
):
    if choice == "other referendum":
        choice = option(make_referendum(), 1).pk
    elif choice == "poll option":
        choice = make_poll().questions.get().options.first().pk
    client.force_login(citizen)
    response = detail(client, lang, referendum, choice)
    assert response.status_code == 400
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "Your vote was not counted"))
    assert_shown(response, t(lang, message))
    assert nothing_written()


def test_a_blank_vote_where_none_is_offered_is_a_400(client, lang, citizen):
    referendum = make_referendum(allow_abstain=False)
    client.force_login(citizen)
    response = detail(client, lang, referendum, "abstain")
    assert response.status_code == 400
    assert_shown(response, t(lang, "A blank vote is not offered in this referendum."))
    assert nothing_written()


def test_a_ballot_after_closing_time_is_refused_without_any_job(client, lang, referendum, citizen):
    with time_machine.travel(referendum.closes_at, tick=False):
        client.force_login(citizen)
        response = detail(client, lang, referendum, option(referendum, 1).pk)
    assert response.status_code == 403
    assert_shown(response, t(lang, Barrier.CLOSED.message))
    assert nothing_written()


@pytest.mark.parametrize("who", ["anonymous", "unverified"])
def test_a_ballot_from_someone_who_may_not_vote_is_a_403(client, lang, referendum, who):
    if who == "unverified":
        client.force_login(UserFactory())
    response = detail(client, lang, referendum, option(referendum, 1).pk)
    assert response.status_code == 403
    barrier = Barrier.NOT_LOGGED_IN if who == "anonymous" else Barrier.NOT_VERIFIED
    assert_shown(response, t(lang, barrier.message))
    assert nothing_written()


# ---------------------------------------------------------------------------
# Results: never before closing
# ---------------------------------------------------------------------------


def cast(referendum, yes=3, no=1):
    for _ in range(yes):
        voting.cast_referendum_ballot(VerifiedUserFactory(), referendum, option(referendum, 1).pk)
    for _ in range(no):
        voting.cast_referendum_ballot(VerifiedUserFactory(), referendum, option(referendum, 2).pk)


def test_results_are_never_shown_while_open(client, lang, referendum):
    cast(referendum)
    Item.objects.filter(pk=referendum.pk).update(live_results=False)
    for address in (
        url(lang, "referendum_detail", slug=referendum.slug),
        url(lang, "referendum_results", slug=referendum.slug),
    ):
        response = client.get(address)
        assert response.status_code == 200
        assert 'id="results-title"' not in page(response)
        assert "75.0%" not in page(response)
    assert_shown(response, t(lang, "Results are shown after the item closes."))


def test_results_wait_for_approval_after_closing_when_asked(client, lang, entity):
    referendum = make_referendum(entity=entity, results_need_approval=True)
    cast(referendum)
    with time_machine.travel(referendum.closes_at + timedelta(hours=1), tick=False):
        counting.tally_and_publish(referendum.pk)
        response = client.get(url(lang, "referendum_results", slug=referendum.slug))
    assert response.status_code == 200
    assert "75.0%" not in page(response)
    assert_shown(response, t(lang, "The results will appear here once they are published."))
    assert Item.objects.get(pk=referendum.pk).state == State.CLOSED


def test_published_results_are_shown_with_the_receipt_list_link(client, lang, referendum):
    cast(referendum)
    moment = close_and_publish(referendum)
    with time_machine.travel(moment, tick=False):
        response = client.get(url(lang, "referendum_results", slug=referendum.slug))
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert "75.0%" in page(response)
    assert "25.0%" in page(response)
    assert url(lang, "referendum_receipts", slug=referendum.slug) in page(response)


# ---------------------------------------------------------------------------
# The public receipt list
# ---------------------------------------------------------------------------


def test_the_receipt_list_is_404_until_the_results_are_published(client, lang, referendum, citizen):
    voting.cast_referendum_ballot(citizen, referendum, option(referendum, 1).pk)
    response = client.get(url(lang, "referendum_receipts", slug=referendum.slug))
    assert response.status_code == 404
    assert_shown(response, t(lang, "The receipt list appears when the results of this referendum are published."))
    assert sealed_ballots(referendum)[0].receipt not in page(response)


def test_anyone_can_find_a_receipt_on_the_published_list(client, lang, referendum, citizen):
    receipt = voting.cast_referendum_ballot(citizen, referendum, option(referendum, 1).pk)
    cast(referendum, yes=2, no=2)
    close_and_publish(referendum)
    listing = client.get(url(lang, "referendum_receipts", slug=referendum.slug))
    assert listing.status_code == 200
    assert_page_language(listing, lang)
    for code in ReferendumBallot.objects.values_list("receipt", flat=True):
        assert code in page(listing)
    checked = client.get(url(lang, "referendum_receipts", slug=referendum.slug), {"code": receipt})
    assert checked.status_code == 200
    assert_shown(checked, t(lang, "Your receipt is on the list: your vote was counted."))


@pytest.mark.parametrize("typed", ["lower", "no dashes", "spaces"])
def test_a_receipt_typed_loosely_is_still_found(client, lang, referendum, citizen, typed):
    receipt = voting.cast_referendum_ballot(citizen, referendum, option(referendum, 1).pk)
    close_and_publish(referendum)
    code = {"lower": receipt.lower(), "no dashes": receipt.replace("-", ""), "spaces": receipt.replace("-", " ")}[typed]
    checked = client.get(url(lang, "referendum_receipts", slug=referendum.slug), {"code": code})
    assert_shown(checked, t(lang, "Your receipt is on the list: your vote was counted."))


def test_an_unknown_receipt_is_not_found(client, lang, referendum, citizen):
    voting.cast_referendum_ballot(citizen, referendum, option(referendum, 1).pk)
    close_and_publish(referendum)
    checked = client.get(
        url(lang, "referendum_receipts", slug=referendum.slug), {"code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}
    )
    assert checked.status_code == 200
    assert_shown(checked, t(lang, "This code is not on the list. Check that you typed it exactly as it was shown."))
    assert_not_shown(checked, t(lang, "Your receipt is on the list: your vote was counted."))


def test_a_code_typed_into_the_check_is_escaped(client, lang, referendum, citizen):
    voting.cast_referendum_ballot(citizen, referendum, option(referendum, 1).pk)
    close_and_publish(referendum)
    checked = client.get(
        url(lang, "referendum_receipts", slug=referendum.slug), {"code": '"><script>alert(1)</script>'}
    )
    assert checked.status_code == 400  # not a receipt code: refused, and still escaped
    assert "<SCRIPT>" not in page(checked).upper().replace("<SCRIPT SRC", "")


# ---------------------------------------------------------------------------
# My participation: that they took part, never how
# ---------------------------------------------------------------------------


def test_my_participation_says_only_that_they_took_part(client, lang, referendum, citizen):
    receipt = voting.cast_referendum_ballot(citizen, referendum, option(referendum, 2).pk)
    client.force_login(citizen)
    response = client.get(url(lang, "accounts:profile"))
    assert response.status_code == 200
    assert_page_language(response, lang)
    body = page(response)
    assert_shown(response, t(lang, "Took part in the referendum"))
    assert url(lang, "referendum_detail", slug=referendum.slug) in body
    assert receipt not in body
    assert NO_EN not in body
    assert option(referendum, 2).text_ar not in body


# ---------------------------------------------------------------------------
# "Check your answer" before the vote (issue 12): a step that writes and keeps nothing
# ---------------------------------------------------------------------------


def check_step(client, lang, referendum, choice, step="check"):
    data = {"step": step} if choice is None else {"step": step, "choice": choice}
    return client.post(url(lang, "referendum_detail", slug=referendum.slug), data)


def forms_of(response):
    """[(hidden fields, button text)] of every POST form in <main>."""
    main = page(response).split('<main id="main"', 1)[1].split("</main>", 1)[0]
    found = []
    for form in re.findall(r'<form method="post".*?</form>', main, re.S):
        hidden = dict(re.findall(r'<input type="hidden" name="(step|choice)" value="([^"]*)">', form))
        button = re.sub(r"<[^>]+>", "", re.search(r"<button[^>]*>(.*?)</button>", form, re.S).group(1)).strip()
        found.append((hidden, button))
    return found


def test_the_ballot_form_goes_to_the_check_step_first(client, lang, referendum, citizen):
    client.force_login(citizen)
    response = detail(client, lang, referendum)
    assert forms_of(response) == [({"step": "check"}, t(lang, "Continue"))]
    assert_not_shown(response, t(lang, "Send my vote"))


def test_the_check_step_shows_the_choice_a_change_button_and_cast_my_vote(client, lang, referendum, citizen):
    client.force_login(citizen)
    session_before = dict(client.session)
    chosen = option(referendum, 2)
    response = check_step(client, lang, referendum, chosen.pk)
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert "no-store" in response["Cache-Control"]
    assert_shown(response, t(lang, "Check your answer before you vote"))
    assert re.search(
        r"<dd[^>]*data-chosen>" + re.escape(escape(chosen.text_ar if lang == "ar" else chosen.text_en)) + "</dd>",
        page(response),
    )
    # "Change" posts the choice back to the form; "Cast my vote" posts it, without a step, to be counted.
    assert forms_of(response) == [
        ({"step": "change", "choice": str(chosen.pk)}, t(lang, "Change") + " " + t(lang, "your answer")),
        ({"choice": str(chosen.pk)}, t(lang, "Cast my vote")),
    ]
    # Secrecy: nothing written, nothing kept in the session, nothing in a cookie.
    assert nothing_written()
    assert dict(client.session) == session_before
    assert set(response.cookies) <= {"csrftoken"}  # Django's own, carrying nothing of the choice


def test_the_check_step_names_a_blank_vote(client, lang, referendum, citizen):
    client.force_login(citizen)
    response = check_step(client, lang, referendum, "abstain")
    assert response.status_code == 200
    assert re.search(r"<dd[^>]*data-chosen>" + re.escape(t(lang, "Blank vote")) + "</dd>", page(response))
    assert nothing_written()


def test_change_brings_back_the_form_with_the_choice_ticked(client, lang, referendum, citizen):
    client.force_login(citizen)
    chosen = option(referendum, 2)
    response = check_step(client, lang, referendum, chosen.pk, step="change")
    assert response.status_code == 200
    body = page(response)
    assert re.search(rf'id="choice-{chosen.pk}" value="{chosen.pk}" checked>', body)
    assert not re.search(rf'id="choice-{option(referendum, 1).pk}" value="{option(referendum, 1).pk}" checked>', body)
    assert nothing_written()


def test_check_then_cast_counts_the_vote_once(client, lang, referendum, citizen):
    client.force_login(citizen)
    chosen = option(referendum, 1)
    check_step(client, lang, referendum, chosen.pk)
    assert nothing_written()
    response = detail(client, lang, referendum, chosen.pk)  # the "Cast my vote" form: the choice, no step
    assert response.status_code == 200
    (ballot,) = sealed_ballots(referendum)
    assert ballot.option_id == chosen.pk
    assert ballot.receipt in page(response)


@pytest.mark.parametrize("choice", [None, "", "999999", "abstain-ish"])
def test_the_check_step_refuses_no_choice_beside_the_form(client, lang, referendum, citizen, choice):
    client.force_login(citizen)
    response = check_step(client, lang, referendum, choice)
    assert response.status_code == 400
    body = page(response)
    assert BALLOT_FORM in body
    assert_shown(response, t(lang, "Choose one of the answers shown."))
    assert f'<a href="#choice-{option(referendum, 1).pk}">' in body  # the summary leads to the first answer
    assert body.index('id="error-summary"') < body.index(BALLOT_FORM)
    assert "js/error_summary.js" in body
    assert nothing_written()


def test_the_check_step_refuses_a_blank_vote_where_none_is_offered(client, lang, citizen):
    referendum = make_referendum(allow_abstain=False)
    client.force_login(citizen)
    assert check_step(client, lang, referendum, "abstain").status_code == 400
    assert nothing_written()


def test_the_check_step_tells_someone_who_voted_at_once(client, lang, referendum, citizen):
    client.force_login(citizen)
    detail(client, lang, referendum, option(referendum, 1).pk)
    response = check_step(client, lang, referendum, option(referendum, 2).pk)
    assert response.status_code == 409
    assert_shown(response, t(lang, Barrier.ALREADY_TOOK_PART.message))
    assert_not_shown(response, t(lang, "Cast my vote"))
    assert ReferendumParticipation.objects.count() == 1


def test_the_check_step_is_refused_to_someone_signed_out(client, lang, referendum):
    response = check_step(client, lang, referendum, option(referendum, 1).pk)
    assert response.status_code == 403
    assert_not_shown(response, t(lang, "Cast my vote"))
    assert nothing_written()
