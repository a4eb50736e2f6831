"""The "Is this easy to understand?" widget: with and without JavaScript, limits, and its admin."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from participation.models import PageFeedback
from tests.factories import PageFeedbackFactory

from .conftest import t

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}

# Eleven different pages that resolve, in both languages.
PAGES = [
    "/ar/",
    "/en/",
    "/ar/about/",
    "/en/about/",
    "/ar/policy/",
    "/en/policy/",
    "/ar/accounts/login/",
    "/en/accounts/login/",
    "/ar/accounts/signup/",
    "/en/accounts/signup/",
    "/ar/accounts/password/reset/",
]


def answer(client, lang, path, value, *, as_json=False, **data):
    payload = {"path": path, "answer": value, **data}
    return client.post(f"/{lang}/feedback/", payload, **(JSON if as_json else {}))


def reason(client, lang, path, *, as_json=False, **data):
    payload = {"path": path, "reason": "unclear", "reason_text": "", **data}
    return client.post(f"/{lang}/feedback/reason/", payload, **(JSON if as_json else {}))


def lang_of(path):
    return path.split("/")[1]


# ---------------------------------------------------------------------------
# Without JavaScript
# ---------------------------------------------------------------------------


def test_every_page_shows_the_widget(client, lang):
    response = client.get(f"/{lang}/about/")
    html = response.content.decode()
    assert 'id="feedback"' in html
    assert f'action="/{lang}/feedback/"' in html
    assert f'name="path" value="/{lang}/about/"' in html
    assert t(lang, "Is this easy to understand?") in html


def test_yes_without_js_redirects_back_and_thanks(client, lang):
    response = answer(client, lang, f"/{lang}/about/", "yes")
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/about/#feedback"

    page = client.get(f"/{lang}/about/")
    assert page.context["feedback_state"] == "thanks"
    html = page.content.decode()
    assert t(lang, "Thank you for your feedback.") in html
    assert f'action="/{lang}/feedback/"' not in html  # the Yes/No form is gone


def test_no_without_js_redirects_back_to_the_reason_form(client, lang):
    response = answer(client, lang, f"/{lang}/policy/?from=home", "no")
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/policy/#feedback"

    page = client.get(f"/{lang}/policy/")
    assert page.context["feedback_state"] == "reason"
    html = page.content.decode()
    assert f'action="/{lang}/feedback/reason/"' in html
    assert 'name="reason_text"' in html
    assert 'name="reason"' in html

    response = reason(client, lang, f"/{lang}/policy/", reason_text="Too long")
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/policy/#feedback"
    assert client.get(f"/{lang}/policy/").context["feedback_state"] == "thanks"


def test_other_pages_still_ask(client, lang):
    answer(client, lang, f"/{lang}/about/", "yes")
    page = client.get(f"/{lang}/policy/")
    assert page.context["feedback_state"] is None
    assert f'action="/{lang}/feedback/"' in page.content.decode()


# ---------------------------------------------------------------------------
# With JavaScript
# ---------------------------------------------------------------------------


def test_yes_with_js_answers_json_with_the_new_widget(client, lang):
    response = answer(client, lang, f"/{lang}/about/", "yes", as_json=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"state", "html"}
    assert body["state"] == "thanks"
    assert "data-feedback-widget" in body["html"]
    assert t(lang, "Thank you for your feedback.") in body["html"]


def test_no_with_js_answers_json_with_the_reason_form(client, lang):
    response = answer(client, lang, f"/{lang}/about/", "no", as_json=True)
    body = response.json()
    assert body["state"] == "reason"
    assert f'action="/{lang}/feedback/reason/"' in body["html"]
    assert 'name="reason_text"' in body["html"]
    assert f'value="/{lang}/about/"' in body["html"]

    response = reason(client, lang, f"/{lang}/about/", as_json=True, reason="missing")
    assert response.status_code == 200
    assert response.json()["state"] == "thanks"


def test_refusals_with_js_are_json(client, lang):
    response = answer(client, lang, f"/{lang}/no-such-page/", "yes", as_json=True)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == t(lang, "This page address is not one of the portal's pages.")


# ---------------------------------------------------------------------------
# What is stored
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("/{lang}/about/", "/about/"),
        ("/{lang}/about/?utm_source=sms&id=7", "/about/"),
        ("/{lang}/about/#top", "/about/"),
        ("/{lang}/", "/"),
        ("/{lang}/accounts/login/?next=/{lang}/profile/", "/accounts/login/"),
    ],
)
def test_yes_stores_one_row_with_the_path_normalised(client, lang, raw, stored):
    response = answer(client, lang, raw.format(lang=lang), "yes")
    assert response.status_code == 302
    row = PageFeedback.objects.get()
    assert row.path == stored
    assert row.language == lang
    assert row.is_easy is True
    assert row.reason == ""
    assert row.reason_text == ""


def test_no_then_reason_updates_the_same_row(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    row = PageFeedback.objects.get()
    assert row.is_easy is False
    reason(client, lang, f"/{lang}/about/", reason="wrong", reason_text="The phone number is old.")
    assert PageFeedback.objects.count() == 1
    row.refresh_from_db()
    assert row.reason == PageFeedback.Reason.WRONG
    assert row.reason_text == "The phone number is old."


def test_reason_text_without_a_reason_counts_as_other(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    reason(client, lang, f"/{lang}/about/", reason="", reason_text="Hard words")
    assert PageFeedback.objects.get().reason == PageFeedback.Reason.OTHER


def test_reason_of_500_characters_is_kept(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    response = reason(client, lang, f"/{lang}/about/", reason_text="x" * 500)
    assert response.status_code == 302
    assert PageFeedback.objects.get().reason_text == "x" * 500


def test_reason_of_501_characters_is_refused_and_nothing_stored(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    response = reason(client, lang, f"/{lang}/about/", reason_text="x" * 501)
    assert response.status_code == 400
    row = PageFeedback.objects.get()
    assert row.reason == ""
    assert row.reason_text == ""
    # The person can still send a shorter one.
    assert reason(client, lang, f"/{lang}/about/", reason_text="x" * 20).status_code == 302


def test_reason_of_501_characters_with_js_explains_the_limit(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    response = reason(client, lang, f"/{lang}/about/", as_json=True, reason_text="x" * 501)
    assert response.status_code == 400
    assert "501" in response.json()["error"]


def test_unknown_reason_is_refused(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    assert reason(client, lang, f"/{lang}/about/", reason="boring").status_code == 400
    assert PageFeedback.objects.get().reason == ""


@pytest.mark.parametrize("value", ["", "maybe", "YES"])
def test_unknown_answer_is_refused(client, lang, value):
    assert answer(client, lang, f"/{lang}/about/", value).status_code == 400
    assert not PageFeedback.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        "/{lang}/no-such-page/",
        "/{lang}/polls/no-such-poll/",
        "/fr/about/",
        "/about/",
        "/{lang}",
        "/healthz",
        "/admin/",
        "/{lang}/feedback/",
        "/{lang}/feedback/reason/",
        "",
        "about/",
    ],
)
def test_unknown_path_is_refused_and_nothing_stored(client, lang, raw):
    response = answer(client, lang, raw.format(lang=lang), "yes")
    assert response.status_code == 400
    assert not PageFeedback.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        "http://evil.example/{lang}/about/",
        "https://testserver/{lang}/about/",
        "//evil.example/{lang}/about/",
        "///evil.example/{lang}/about/",
        "javascript:alert(1)",
        "/\\evil.example/{lang}/about/",
    ],
)
def test_path_outside_the_portal_is_refused(client, lang, raw):
    response = answer(client, lang, raw.format(lang=lang), "yes")
    assert response.status_code == 400
    assert not PageFeedback.objects.exists()


def test_overlong_path_is_refused(client, lang):
    response = answer(client, lang, f"/{lang}/about/" + "a" * 260, "yes")
    assert response.status_code == 400
    assert not PageFeedback.objects.exists()


def test_email_addresses_in_the_path_are_replaced(client, lang):
    raw = f"/{lang}/accounts/password/reset/key/1-fatima.ali@example.qa/"
    response = answer(client, lang, raw, "no")
    assert response.status_code == 302
    row = PageFeedback.objects.get()
    assert "@" not in row.path
    assert "fatima" not in row.path
    assert "example.qa" not in row.path
    assert row.path.startswith("/accounts/password/reset/key/")
    assert row.path == "/accounts/password/reset/key/<uidb36>-<key>/"  # the key segment is redacted whole


def test_secret_keys_in_account_links_are_not_stored(client, lang):
    """The e-mail confirmation page carries its secret key in the address, and shows the widget.

    Feedback is read by staff; a stored key would let them confirm someone else's address.
    """
    key = "MQ:1xXW4V:7eS2zO8ZyLLaOaTiPMn8TXr__e0FccSZmxR-ICpJc1g"
    response = answer(client, lang, f"/{lang}/accounts/confirm-email/{key}/", "yes")
    assert response.status_code == 302
    assert PageFeedback.objects.count() == 1
    assert not PageFeedback.objects.filter(path__contains=key).exists()
    assert not PageFeedback.objects.filter(path__contains="MQ:").exists()


# ---------------------------------------------------------------------------
# Abuse: CSRF, honeypot, repeats, floods
# ---------------------------------------------------------------------------


def test_missing_csrf_token_is_refused_with_a_message(lang):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/{lang}/feedback/", {"path": f"/{lang}/about/", "answer": "yes"})
    assert response.status_code == 403
    message = t(
        lang,
        "Your form could not be sent because its security check failed. "
        "This happens when a page was open for a long time or cookies are blocked. "
        "Go back, reload the page and try again.",
    )
    assert message in response.content.decode()
    assert not PageFeedback.objects.exists()


def test_missing_csrf_token_with_js_is_json(lang):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/{lang}/feedback/", {"path": f"/{lang}/about/", "answer": "yes"}, **JSON)
    assert response.status_code == 403
    assert "error" in response.json()
    assert not PageFeedback.objects.exists()


def test_with_the_csrf_token_of_the_page_the_answer_is_kept(lang):
    client = Client(enforce_csrf_checks=True)
    client.get(f"/{lang}/about/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/{lang}/feedback/", {"path": f"/{lang}/about/", "answer": "yes", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert PageFeedback.objects.count() == 1


def test_honeypot_answer_looks_normal_but_is_not_kept(client, lang):
    response = answer(client, lang, f"/{lang}/about/", "no", website="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/about/#feedback"
    assert not PageFeedback.objects.exists()


def test_honeypot_answer_with_js_looks_normal_but_is_not_kept(client, lang):
    response = answer(client, lang, f"/{lang}/about/", "yes", as_json=True, website="spam")
    assert response.status_code == 200
    assert response.json()["state"] == "thanks"
    assert not PageFeedback.objects.exists()


def test_honeypot_reason_is_not_kept(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    response = reason(client, lang, f"/{lang}/about/", reason_text="buy now", website="spam")
    assert response.status_code == 302
    assert PageFeedback.objects.get().reason_text == ""


def test_same_page_twice_in_a_session_is_refused(client, lang):
    assert answer(client, lang, f"/{lang}/about/", "yes").status_code == 302
    response = answer(client, lang, f"/{lang}/about/?again=1", "no")
    assert response.status_code == 409
    assert t(lang, "You have already answered for this page. Thank you.") in response.content.decode()
    assert PageFeedback.objects.count() == 1
    assert PageFeedback.objects.get().is_easy is True


def test_same_page_in_the_other_language_is_another_page(client):
    assert answer(client, "ar", "/ar/about/", "yes").status_code == 302
    assert answer(client, "en", "/en/about/", "yes").status_code == 302
    assert sorted(PageFeedback.objects.values_list("language", flat=True)) == ["ar", "en"]


def test_another_session_may_answer_the_same_page(client, lang):
    assert answer(client, lang, f"/{lang}/about/", "yes").status_code == 302
    assert answer(Client(), lang, f"/{lang}/about/", "yes").status_code == 302
    assert PageFeedback.objects.count() == 2


def test_more_than_ten_answers_in_ten_minutes_are_refused(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for path in PAGES[:10]:
            response = answer(client, lang_of(path), path, "yes")
            assert response.status_code == 302, path
            clock.shift(timedelta(seconds=30))
        response = answer(client, "ar", PAGES[10], "yes", as_json=True)
        assert response.status_code == 429
        assert response.json()["error"] == t(
            "ar", "Too many answers in a short time. Please try again in a few minutes."
        )
        assert PageFeedback.objects.count() == 10

        # Ten minutes after the first answer, there is room again.
        clock.move_to(start + timedelta(minutes=10, seconds=1))
        assert answer(client, "ar", PAGES[10], "yes").status_code == 302
        assert PageFeedback.objects.count() == 11


def test_reason_without_answering_no_is_refused(client, lang):
    response = reason(client, lang, f"/{lang}/about/", reason_text="Nothing to attach to")
    assert response.status_code == 409
    assert t(lang, "Answer “No” first; then you can tell us why.") in response.content.decode()
    assert not PageFeedback.objects.exists()


def test_reason_after_yes_is_refused(client, lang):
    answer(client, lang, f"/{lang}/about/", "yes")
    response = reason(client, lang, f"/{lang}/about/", reason_text="But also...", as_json=True)
    assert response.status_code == 409
    row = PageFeedback.objects.get()
    assert row.reason == "" and row.reason_text == ""


def test_reason_twice_is_refused(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    assert reason(client, lang, f"/{lang}/about/", reason_text="first").status_code == 302
    assert reason(client, lang, f"/{lang}/about/", reason_text="second").status_code == 409
    assert PageFeedback.objects.get().reason_text == "first"


def test_reason_more_than_an_hour_later_is_refused(client, lang):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        answer(client, lang, f"/{lang}/about/", "no")
        clock.shift(timedelta(hours=1, seconds=1))
        assert reason(client, lang, f"/{lang}/about/", reason_text="late").status_code == 409
    assert PageFeedback.objects.get().reason_text == ""


def test_reason_from_another_session_is_refused(client, lang):
    answer(client, lang, f"/{lang}/about/", "no")
    assert reason(Client(), lang, f"/{lang}/about/", reason_text="not mine").status_code == 409
    assert PageFeedback.objects.get().reason_text == ""


@pytest.mark.parametrize("url", ["/{lang}/feedback/", "/{lang}/feedback/reason/"])
def test_feedback_endpoints_take_only_post(client, lang, url):
    assert client.get(url.format(lang=lang)).status_code == 405


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------

CHANGELIST = "/admin/participation/pagefeedback/"


@pytest.fixture
def answers():
    for is_easy in (True, True, False):
        PageFeedbackFactory(path="/about/", language="ar", is_easy=is_easy)
    PageFeedbackFactory(path="/about/", language="en", is_easy=False)
    PageFeedbackFactory(path="/policy/", language="en", is_easy=True)


def summary_of(response):
    return {row["path"]: (row["answers"], row["yes"], row["yes_share"]) for row in response.context_data["summary"]}


def test_admin_changelist_shows_the_summary_per_page(superuser_client, answers, lang):
    response = superuser_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert summary_of(response) == {"/about/": (4, 2, 50), "/policy/": (1, 1, 100)}
    html = response.content.decode()
    assert 'id="feedback-summary"' in html
    assert "50%" in html and "100%" in html
    assert t(lang, "Answers per page") in html


def test_admin_summary_follows_the_language_filter(superuser_client, answers, lang):
    response = superuser_client.get(CHANGELIST + "?language__exact=ar", HTTP_ACCEPT_LANGUAGE=lang)
    assert summary_of(response) == {"/about/": (3, 2, 67)}
    assert "67%" in response.content.decode()
    response = superuser_client.get(CHANGELIST + "?language__exact=en", HTTP_ACCEPT_LANGUAGE=lang)
    assert summary_of(response) == {"/about/": (1, 0, 0), "/policy/": (1, 1, 100)}


def test_admin_summary_with_no_answers_says_so(superuser_client, lang):
    response = superuser_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.context_data["summary"] == []
    assert t(lang, "No answers for this selection.") in response.content.decode()


def test_admin_cannot_add_feedback(superuser_client, lang):
    response = superuser_client.get(CHANGELIST + "add/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 403
    response = superuser_client.post(
        CHANGELIST + "add/", {"path": "/about/", "language": "ar", "is_easy": "on"}, HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 403
    assert not PageFeedback.objects.exists()


def test_admin_cannot_change_feedback(superuser_client, lang):
    row = PageFeedbackFactory(path="/about/", is_easy=False, reason="unclear", reason_text="hard words")
    page = superuser_client.get(f"{CHANGELIST}{row.pk}/change/", HTTP_ACCEPT_LANGUAGE=lang)
    assert page.status_code == 200  # readable ...
    assert 'name="_save"' not in page.content.decode()  # ... but without a save button
    response = superuser_client.post(
        f"{CHANGELIST}{row.pk}/change/",
        {"path": "/policy/", "language": "en", "reason": "other", "reason_text": "edited"},
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert (row.path, row.language, row.reason_text) == ("/about/", "ar", "hard words")


def test_admin_feedback_is_not_for_people_without_staff_access(client, user, answers):
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_stored_feedback_has_no_personal_data(client, user, lang):
    client.force_login(user)
    answer(client, lang, f"/{lang}/about/", "yes")
    row = PageFeedback.objects.values().get()
    assert set(row) == {"id", "path", "language", "is_easy", "reason", "reason_text", "created_at"}
    assert user.email not in json.dumps(row, default=str)
