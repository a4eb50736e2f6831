"""No 500 on hostile input (issue 10, part 4), in Arabic and in English.

Property tests (hypothesis, bounded and derandomised: tests/hostile.py) send NUL bytes, superscript and
Arabic-Indic digits, huge numbers, bidi controls, CR/LF, lone surrogates and invalid UTF-8 to every public
form, URL and query parameter, the vote endpoints, the admin changelist filters (as a superuser and as
ministry staff) and the audit trail CSV. Every answer is below 500; a refusal is a 4xx page (or JSON) with a
message in the page's language, and writes nothing.

The property tests run WITHOUT the request guard (`bare_stack`), so that they test the forms, views,
services and admin themselves: the guard is a second line, tested on its own at the end of the file.
The 500s this file found are listed in test_known_500s_are_4xx_now.
"""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation
from hypothesis import example, given
from hypothesis import strategies as st

from participation.admin import changelist_parameter_problem
from participation.forms import ReceiptCheckForm
from participation.models import AuditEntry, Item, PollBallot, ReferendumBallot, State
from participation.services import counting, lifecycle, voting
from participation.validators import breaks_a_line, validate_single_line
from tests.builders.items import make_consultation, make_poll, make_referendum
from tests.builders.users import MINISTRY_STAFF, auditor, make_staff
from tests.factories import PASSWORD, EntityFactory, PollFactory, SuperUserFactory, VerifiedUserFactory
from tests.participation.conftest import t

from .hostile import (
    HOSTILE_SETTINGS,
    HUGE_NUMBER,
    KNOWN_RAW,
    assert_no_500,
    assert_page_language,
    assert_refusal,
    assert_stored_text_clean,
    hostile_text,
    hostile_value,
    row_counts,
    send,
    text_of,
)

pytestmark = pytest.mark.django_db

GUARD = "hukoomi_portal.request_guard.RequestGuardMiddleware"


@pytest.fixture
def bare_stack(settings):
    """The portal without the request guard: what the forms, views and admin do on their own."""
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != GUARD]


@pytest.fixture
def world(db):
    """One of everything a hostile request can aim at: open poll, referendum and consultation, published results."""
    entity = EntityFactory(slug="transport")
    poll = make_poll(questions=2, options=3, entity=entity, slug="bus-routes")
    referendum = make_referendum(entity=entity, slug="new-law")
    consultation = make_consultation(entity=entity, slug="draft-law", moderate_before_publishing=False)
    published = make_referendum(entity=entity, slug="old-law")
    voter = VerifiedUserFactory()
    voting.cast_referendum_ballot(voter, published, str(published.questions.get().options.first().pk))
    lifecycle.close_item(published.pk)
    published.refresh_from_db()
    if published.state != State.PUBLISHED:
        counting.tally_and_publish(published.pk)  # the worker's count, then publication
    return {
        "entity": entity,
        "poll": poll,
        "referendum": referendum,
        "consultation": consultation,
        "published": published,
        "receipt": ReferendumBallot.objects.get(item=published).receipt,
    }


@pytest.fixture
def citizen_client(world):
    client = Client()
    client.force_login(VerifiedUserFactory())
    return client


def fresh_limits():
    """allauth's rate limits live in the cache; each example starts from none."""
    for cache in caches.all():
        cache.clear()


def check(response, lang, before, sent, accepted=(200, 302), redisplayed=()):
    """The rule of this file: no 500; a refusal is in the page's language and writes nothing.

    `redisplayed`: statuses with which a form page shows itself again with its errors (allauth and the
    profile answer 200, as Django's form views do); those are refusals too.
    """
    assert_no_500(response)
    if response.status_code in accepted:
        assert_stored_text_clean()
        return
    assert_refusal(response, lang, sent, redisplayed)
    assert row_counts() == before, "a refused request wrote something"


# ---------------------------------------------------------------------------
# Query parameters of public pages
# ---------------------------------------------------------------------------

PAGES = {
    "/{lang}/": ["audience"],
    "/{lang}/participate/": ["tab", "type", "entity", "segment", "persona", "q", "page"],
    "/{lang}/audience/": ["segment", "persona", "clear"],
    "/{lang}/referendums/old-law/receipts/": ["code", "page"],
    "/{lang}/referendums/old-law/results/": ["page"],
    "/{lang}/polls/bus-routes/": ["page"],
    "/{lang}/consultations/draft-law/": ["section"],
    "/{lang}/accounts/login/": ["next"],
    "/{lang}/accounts/signup/": ["next"],
    "/{lang}/you-said-we-did/": ["status", "page"],
    "/{lang}/data/": ["page"],
    "/{lang}/feeds/opened.atom": ["entity", "segment", "persona"],
    "/{lang}/feeds/calendar.ics": ["entity", "segment", "persona"],
}


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@HOSTILE_SETTINGS
@given(
    page=st.sampled_from(sorted(PAGES)),
    params=st.lists(st.tuples(st.integers(0, 9), hostile_value), min_size=1, max_size=4),
    stray_key=hostile_value,
)
@example(page="/{lang}/referendums/old-law/receipts/", params=[(0, "\x00")], stray_key="code")
@example(page="/{lang}/participate/", params=[(6, HUGE_NUMBER), (2, "²")], stray_key="page")
@example(page="/{lang}/participate/", params=[(5, b"\xed\xa0\x80")], stray_key="q")
def test_query_parameters(bare_stack, world, lang, signed_in, page, params, stray_key):
    client = Client()
    if signed_in:
        client.force_login(VerifiedUserFactory())
    keys = PAGES[page]
    pairs = [(keys[index] if index < len(keys) else stray_key, value) for index, value in params]
    before = row_counts()
    response = send(client, "get", page.format(lang=lang), pairs)
    # Choosing an audience is remembered in the session only; a page view writes no rows.
    check(response, lang, before, [value for _key, value in pairs])


PATHS = [
    "/{lang}/polls/{x}/",
    "/{lang}/polls/{x}/results/",
    "/{lang}/polls/{x}/thanks/",
    "/{lang}/referendums/{x}/",
    "/{lang}/referendums/{x}/receipts/",
    "/{lang}/referendums/{x}/results/",
    "/{lang}/consultations/{x}/",
    "/{lang}/consultations/{x}/outcome/",
    "/{lang}/consultations/draft-law/sections/{x}/react/",
    "/{lang}/unsubscribe/{x}/",
    "/{lang}/audit/{x}/old-law/results.csv",
    "/{lang}/audit/referendum/{x}/results.csv",
    "/{lang}/audit/referendum/old-law/{x}.csv",
    "/{lang}/audit/{x}/old-law/{x}.csv.sha256",
    "/{lang}/you-said-we-did/{x}/",
    "/{lang}/data/results/{x}/old-law.csv",
    "/{lang}/data/results/referendum/{x}.json",
    "/{lang}/data/accountability-{x}.csv",
]


@HOSTILE_SETTINGS
@given(
    template=st.sampled_from(PATHS),
    segment=hostile_text.filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
)
@example(template="/{lang}/audit/{x}/old-law/results.csv", segment="\x00")
@example(template="/{lang}/unsubscribe/{x}/", segment="\x00")
def test_path_segments(bare_stack, world, lang, template, segment):
    """Hostile text inside the address, as an auditor (who may reach the export URLs)."""
    client = Client()
    client.force_login(auditor())
    before = row_counts()
    path = template.format(lang=lang, x=segment.replace("%", "%25"))
    response = client.get(path)
    check(response, lang, before, [segment], accepted=(200, 302, 405))


# ---------------------------------------------------------------------------
# Votes, comments, reactions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@HOSTILE_SETTINGS
@given(data=st.data())
def test_poll_ballot(bare_stack, world, citizen_client, lang, encoding, data):
    poll = world["poll"]
    questions = list(poll.questions.all())
    real_keys = [f"question-{q.pk}" for q in questions]
    real_values = [str(pk) for q in questions for pk in q.options.values_list("pk", flat=True)] + ["abstain"]
    key = st.one_of(
        st.sampled_from(real_keys), hostile_value.map(lambda v: v if isinstance(v, bytes) else f"question-{v}")
    )
    value = st.one_of(st.sampled_from(real_values), hostile_value)
    pairs = data.draw(st.lists(st.tuples(key, value), min_size=1, max_size=5), label="pairs")
    if encoding == "multipart":
        pairs = [(text_of(k), text_of(v)) for k, v in pairs]
    before = row_counts()
    response = send(citizen_client, "post", f"/{lang}/polls/{poll.slug}/", pairs, encoding=encoding)
    check(response, lang, before, [v for pair in pairs for v in pair], accepted=(302,))


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@HOSTILE_SETTINGS
@given(
    choice=st.one_of(hostile_value, st.just("abstain")),
    extra=st.lists(st.tuples(hostile_value, hostile_value), max_size=2),
)
@example(choice="²", extra=[])
@example(choice=HUGE_NUMBER, extra=[])
@example(choice="٣", extra=[])
def test_referendum_ballot(bare_stack, world, citizen_client, lang, encoding, choice, extra):
    pairs = [("choice", choice), *extra]
    if encoding == "multipart":
        pairs = [(text_of(k), text_of(v)) for k, v in pairs]
    before = row_counts()
    response = send(citizen_client, "post", f"/{lang}/referendums/new-law/", pairs, encoding=encoding)
    # An accepted vote answers 200 with the receipt (never a redirect: the receipt is not stored anywhere).
    check(response, lang, before, [v for pair in pairs for v in pair], accepted=(200,))
    if response.status_code == 200:
        assert "receipt-code" in response.content.decode()


@HOSTILE_SETTINGS
@given(
    body=hostile_value,
    section=st.one_of(hostile_value, st.just("")),
    agrees=st.one_of(hostile_value, st.sampled_from(["yes", "no"])),
)
def test_comment_and_reaction(bare_stack, world, citizen_client, lang, body, section, agrees):
    consultation = world["consultation"]
    sections = [str(pk) for pk in consultation.sections.values_list("pk", flat=True)]
    before = row_counts()
    response = send(
        citizen_client,
        "post",
        f"/{lang}/consultations/{consultation.slug}/comment/",
        [("body", body), ("section", section)],
    )
    check(response, lang, before, [body, section], accepted=(302,))
    before = row_counts()
    response = send(
        citizen_client, "post", f"/{lang}/consultations/{consultation.slug}/sections/1/react/", [("agrees", agrees)]
    )
    check(response, lang, before, [agrees], accepted=(302,))
    assert sections  # the consultation has sections to aim at


# ---------------------------------------------------------------------------
# Feedback widget, sign-up, log-in, profile
# ---------------------------------------------------------------------------


@HOSTILE_SETTINGS
@given(
    path=st.one_of(hostile_value, st.sampled_from(["/ar/", "/en/about/", "/en/polls/bus-routes/"])),
    answer=st.one_of(hostile_value, st.sampled_from(["yes", "no"])),
    reason=st.one_of(hostile_value, st.just("unclear")),
    reason_text=hostile_value,
    website=st.one_of(st.just(""), hostile_value),
    wants_json=st.booleans(),
)
@example(path="²", answer="yes", reason="", reason_text="", website="bot", wants_json=False)  # was NoReverseMatch
@example(path="/en/about/\r\n", answer="no", reason="unclear", reason_text="\x00", website="", wants_json=True)
def test_feedback_widget(bare_stack, world, client, lang, path, answer, reason, reason_text, website, wants_json):
    extra = {"HTTP_ACCEPT": "application/json"} if wants_json else {}
    before = row_counts()
    response = send(
        client, "post", f"/{lang}/feedback/", [("path", path), ("answer", answer), ("website", website)], **extra
    )
    check(response, lang, before, [path, answer, website])
    before = row_counts()
    response = send(
        client,
        "post",
        f"/{lang}/feedback/reason/",
        [("path", path), ("reason", reason), ("reason_text", reason_text), ("website", website)],
        **extra,
    )
    check(response, lang, before, [path, reason, reason_text, website])


SIGNUP_FIELDS = ["email", "password1", "password2", "full_name", "segment", "personas", "identity_number"]


@HOSTILE_SETTINGS
@given(data=st.data())
@example(data=None)
def test_signup(bare_stack, world, client, lang, data):
    fresh_limits()
    valid = {
        "email": "noor@example.qa",
        "password1": "Qatar-Portal-Pass-2026!",
        "password2": "Qatar-Portal-Pass-2026!",
        "full_name": "Noor Ali",
        "segment": "citizen",
        "personas": "parent",
        "identity_number": "29063400077",
    }
    if data is None:  # a name with CR/LF: refused, nothing stored
        fields = {**valid, "full_name": "Noor\r\nAli"}
    else:
        hostile = data.draw(st.dictionaries(st.sampled_from(SIGNUP_FIELDS), hostile_value, min_size=1, max_size=3))
        fields = {**valid, **hostile}
    before = row_counts()
    response = send(client, "post", f"/{lang}/accounts/signup/", list(fields.items()))
    if data is None:
        assert response.status_code == 200
    check(response, lang, before, list(fields.values()), accepted=(302,), redisplayed=(200,))
    client.logout()


@pytest.fixture
def known_person(db):
    return VerifiedUserFactory(email="known@example.qa")


@HOSTILE_SETTINGS
@given(
    login=st.one_of(hostile_value, st.just("known@example.qa")),
    password=st.one_of(hostile_value, st.just(PASSWORD)),
    remember=hostile_value,
    next_page=st.one_of(hostile_value, st.just("/en/participate/")),
)
@example(login="known@example.qa", password=PASSWORD, remember="", next_page="/en/\r\nX-Injected: 1")
@example(login="known@example.qa", password=PASSWORD, remember="", next_page="²")
def test_login(bare_stack, world, known_person, client, lang, login, password, remember, next_page):
    """Log-in, with a hostile `next` after a successful log-in too (a header must never carry a line break)."""
    fresh_limits()
    pairs = [("login", login), ("password", password), ("remember", remember), ("next", next_page)]
    before = row_counts()
    response = send(client, "post", f"/{lang}/accounts/login/", pairs)
    if response.status_code == 302:
        assert not breaks_a_line(response["Location"])
    check(response, lang, before, [login, password, remember, next_page], accepted=(302,), redisplayed=(200,))
    client.logout()


PROFILE_FIELDS = [
    "full_name",
    "segment",
    "personas",
    "identity_number",
    "preferred_language",
    "notify_new_items",
    "notify_results",
]


@HOSTILE_SETTINGS
@given(hostile=st.dictionaries(st.sampled_from(PROFILE_FIELDS), hostile_value, min_size=1, max_size=3))
@example(hostile={"full_name": "Maryam\nAl-Thani"})
@example(hostile={"identity_number": "٢٨٤٦٣٤٠٠٠٠١\u202e"})
def test_profile(bare_stack, world, lang, hostile):
    person = VerifiedUserFactory(full_name="Maryam Al-Thani")
    client = Client()
    client.force_login(person)
    fields = {
        "full_name": person.full_name,
        "segment": person.segment,
        "identity_number": person.identity_number,
        "preferred_language": "ar",
        **hostile,
    }
    stored = (person.full_name, person.segment, person.identity_number)
    before = row_counts()
    response = send(client, "post", f"/{lang}/profile/", list(fields.items()))
    assert_no_500(response)
    if response.status_code != 302:
        assert_page_language(response, lang)
        person.refresh_from_db()
        assert (person.full_name, person.segment, person.identity_number) == stored, "a refused profile was saved"
        assert row_counts() == before
    assert_stored_text_clean()


# ---------------------------------------------------------------------------
# Admin changelist filters
# ---------------------------------------------------------------------------

ADMIN_PARAMS = ["q", "o", "p", "e", "_facets", "all", "state__exact", "entity__id__exact", "state", "action__exact"]
HIERARCHY_PARTS = ["__year", "__month", "__day"]


def filter_keys(model_admin):
    keys = list(ADMIN_PARAMS)
    for entry in model_admin.list_filter:
        # A field name, a (field, filter class) pair, or a SimpleListFilter with its own parameter.
        name = entry if isinstance(entry, str) else entry[0] if isinstance(entry, tuple) else entry.parameter_name
        keys += [name, f"{name}__exact", f"{name}__id__exact", f"{name}__gte", f"{name}__lt", f"{name}__isnull"]
    if model_admin.date_hierarchy:
        keys += [f"{model_admin.date_hierarchy}{part}" for part in HIERARCHY_PARTS]
    return keys


@pytest.fixture
def ministry_staff(world):
    return make_staff(MINISTRY_STAFF, world["entity"])


CHANGELISTS = {
    f"/admin/{model._meta.app_label}/{model._meta.model_name}/": filter_keys(model_admin)
    for model, model_admin in admin.site._registry.items()
}
ADMIN_KEYS = sorted({key for keys in CHANGELISTS.values() for key in keys})


@pytest.mark.parametrize("who", ["superuser", "ministry staff"])
@HOSTILE_SETTINGS
@given(
    address=st.sampled_from(sorted(CHANGELISTS)),
    pairs=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(ADMIN_KEYS), hostile_value),
            st.one_of(
                hostile_value, st.sampled_from(["1", "2026", "12", "31", "9999", "0", "True", "draft", "export"])
            ),
        ),
        min_size=1,
        max_size=3,
    ),
)
@example(address="/admin/participation/poll/", pairs=[("state__exact", "\x00")])
@example(address="/admin/participation/poll/", pairs=[("opens_at__year", "99999999999")])
@example(address="/admin/participation/referendum/", pairs=[("opens_at__year", "9999"), ("opens_at__month", "12")])
@example(address="/admin/participation/auditentry/", pairs=[("created_at__year", "1"), ("created_at__month", "1")])
@example(address="/admin/accounts/user/", pairs=[("q", "\x00")])
def test_admin_changelist_filters(bare_stack, world, ministry_staff, lang, who, address, pairs):
    person = SuperUserFactory() if who == "superuser" else ministry_staff
    client = Client()
    client.force_login(person)
    before = row_counts()
    response = send(client, "get", address, pairs, HTTP_ACCEPT_LANGUAGE=lang)
    assert_no_500(response)
    assert row_counts() == before, "looking at a list wrote something"
    if response.status_code == 302 and "?" not in response["Location"]:
        # The guard's refusal: the unfiltered list with a message in the admin's language.
        followed = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=lang)
        assert followed.status_code == 200
        assert_admin_message(followed, lang)
    elif response.status_code >= 400 and response.status_code != 403:
        assert_page_language(response, lang)


def assert_admin_message(response, lang):
    body = response.content.decode()
    problems = [
        changelist_parameter_problem_messages(lang)[0],
        changelist_parameter_problem_messages(lang)[1],
    ]
    assert any(problem in body for problem in problems), "no refusal message in the admin's language"


def changelist_parameter_problem_messages(lang):
    return (
        t(lang, "This filter contains characters that cannot be used, so the whole list is shown."),
        t(lang, "This date is outside the dates the list can show, so the whole list is shown."),
    )


# ---------------------------------------------------------------------------
# The audit trail CSV
# ---------------------------------------------------------------------------


@HOSTILE_SETTINGS
@given(
    action=st.one_of(hostile_value, st.sampled_from(["", "export", "state", "login"])),
    entity=st.one_of(hostile_value, st.sampled_from(["", "transport", "no-such-ministry"])),
)
@example(action="\x00", entity="")
@example(action="", entity="\x00")
def test_audit_trail_csv(bare_stack, world, lang, action, entity):
    client = Client()
    client.force_login(auditor())
    exports_before = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    before = row_counts()
    response = send(client, "get", f"/{lang}/audit/trail.csv", [("action", action), ("entity", entity)])
    assert_no_500(response)
    if response.status_code == 200:
        # Accepted only for a known action and entity: the whole file streams, and the export is on the trail once.
        assert text_of(action) in {"", *AuditEntry.Action.values} and text_of(entity) in {"", "transport"}
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xef\xbb\xbf") or body[:1].isalpha()
        assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == exports_before + 1
    else:
        assert_refusal(response, lang, [action, entity])
        assert row_counts() == before, "a refused export was recorded"


# ---------------------------------------------------------------------------
# The cases of the issue, each once, with and without the guard
# ---------------------------------------------------------------------------


@pytest.fixture(params=["bare", "guarded"])
def stack(request, settings):
    if request.param == "bare":
        settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != GUARD]
    return request.param


def test_known_500s_are_4xx_now(world, citizen_client, lang, stack):
    """The 500s found (before the fixes each raised; the first five were in the issue):

    - a referendum vote with choice=² (ValueError from int) or 5,000 digits (int's digit limit);
    - /receipts/?code=%00 (PostgreSQL DataError);
    - admin changelist ?state=%00 (DataError while rendering) and ?opens_at__year=99999999999 (OverflowError);
      also ?opens_at__year=9999&opens_at__month=12 (next month overflows);
    - /audit/trail.csv?action=%00 (an export recorded, then the stream broke off);
    - an export URL with a NUL in its kind (DataError);
    - a session cookie with a NUL (DataError on every page; the guard's test below).
    """
    ballots = ReferendumBallot.objects.count()
    for choice in ("²", HUGE_NUMBER, "٣", "\x00"):
        response = citizen_client.post(f"/{lang}/referendums/new-law/", {"choice": choice})
        assert_refusal(response, lang, [choice])
    assert ReferendumBallot.objects.count() == ballots

    response = Client().get(f"/{lang}/referendums/old-law/receipts/?code=%00")
    assert_refusal(response, lang)

    superuser = Client()
    superuser.force_login(SuperUserFactory())
    for query in ("state=%00", "opens_at__year=99999999999", "opens_at__year=9999&opens_at__month=12"):
        response = superuser.get(f"/admin/participation/poll/?{query}", HTTP_ACCEPT_LANGUAGE=lang)
        refused_by_guard = stack == "guarded" and "%00" in query
        assert response.status_code == (400 if refused_by_guard else 302), (query, response.status_code)
        if response.status_code == 302:
            assert_admin_message(superuser.get(response["Location"], HTTP_ACCEPT_LANGUAGE=lang), lang)

    trail = Client()
    trail.force_login(auditor())
    exports = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    for query in ("action=%00", "action=nonsense", "entity=%00", "entity=no-such-ministry"):
        response = trail.get(f"/{lang}/audit/trail.csv?{query}")
        assert_refusal(response, lang)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == exports

    response = trail.get(f"/{lang}/audit/%00/old-law/results.csv")
    assert response.status_code == (404 if stack == "bare" else 400)  # the guard refuses the NUL before the URLs
    assert_page_language(response, lang)


def test_bad_filters_answer_with_the_right_message(world, lang, bare_stack):
    superuser = Client()
    superuser.force_login(SuperUserFactory())
    response = superuser.get(
        "/admin/participation/poll/?opens_at__year=99999999999", HTTP_ACCEPT_LANGUAGE=lang, follow=True
    )
    assert (
        t(lang, "This date is outside the dates the list can show, so the whole list is shown.")
        in response.content.decode()
    )
    response = superuser.get("/admin/participation/poll/?state=%00", HTTP_ACCEPT_LANGUAGE=lang, follow=True)
    assert (
        t(lang, "This filter contains characters that cannot be used, so the whole list is shown.")
        in response.content.decode()
    )

    trail = Client()
    trail.force_login(auditor())
    response = trail.get(f"/{lang}/audit/trail.csv?action=nonsense")
    assert t(lang, "This is not one of the actions on the audit trail.") in response.content.decode()
    response = trail.get(f"/{lang}/audit/trail.csv?entity=no-such-ministry")
    assert t(lang, "There is no government entity with this short name.") in response.content.decode()

    response = Client().get(f"/{lang}/referendums/old-law/receipts/?code=ABC%2BDEF")
    assert response.status_code == 400
    assert (
        t(
            lang,
            "A receipt code is made of Latin letters and digits in groups of four. Copy it exactly as it was shown.",
        )
        in response.content.decode()
    )


def test_the_filters_that_work_still_work(world, lang, bare_stack):
    """Refusing bad values must not refuse good ones: a year, a month, a known action, a known entity."""
    superuser = Client()
    superuser.force_login(SuperUserFactory())
    response = superuser.get(
        "/admin/participation/poll/?opens_at__year=2026&opens_at__month=5", HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 200
    trail = Client()
    trail.force_login(auditor())
    response = trail.get(f"/{lang}/audit/trail.csv?action=state&entity=transport")
    assert response.status_code == 200
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) > 1 and all(",state," in row for row in rows[1:])


def test_receipt_check_reads_the_code_however_it_was_typed(world, lang):
    """Lower case, spaces instead of dashes, Arabic-Indic digits: the same receipt."""
    receipt = world["receipt"]
    arabic = receipt.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")).lower().replace("-", " ")
    form = ReceiptCheckForm({"code": arabic})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["code"] == receipt
    response = Client().get(f"/{lang}/referendums/old-law/receipts/", {"code": arabic})
    assert response.status_code == 200
    assert t(lang, "Your receipt is on the list: your vote was counted.") in response.content.decode()


def test_oversized_and_overfull_bodies_are_refused_in_the_page_language(world, citizen_client, lang):
    ballots = PollBallot.objects.count()
    big = b"choice=" + b"9" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = citizen_client.post(
        f"/{lang}/referendums/new-law/", big, content_type="application/x-www-form-urlencoded"
    )
    assert_refusal(response, lang)
    many = "&".join(f"f{i}=1" for i in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)).encode()
    response = citizen_client.post(f"/{lang}/polls/bus-routes/", many, content_type="application/x-www-form-urlencoded")
    assert_refusal(response, lang)
    assert PollBallot.objects.count() == ballots


# ---------------------------------------------------------------------------
# Single-line fields: no CR/LF in titles, names, questions, options, headings
# ---------------------------------------------------------------------------

LINE_BREAKS = ["\r\n", "\n", "\r", "\x0b", "\x85", "\u2028", "\u2029", "\x00", "\x1b"]


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_single_line_validator_refuses_line_breaks_and_control_characters(char):
    with pytest.raises(ValidationError):
        validate_single_line(f"Bus routes{char}Bcc: all@example.qa")


@pytest.mark.parametrize("title", ["مسارات الحافلات\u200f (2026)", "Bus routes – 2026", "\u2067عربي\u2069 and English"])
def test_single_line_validator_keeps_bidi_marks_that_arabic_needs(title):
    validate_single_line(title)


def test_admin_refuses_a_title_with_a_line_break(lang, bare_stack):
    superuser = SuperUserFactory()
    client = Client()
    client.force_login(superuser)
    entity = EntityFactory()
    form = {
        "entity": entity.pk,
        "slug": "crlf",
        "title_ar": "عنوان\r\nBcc: all@example.qa",
        "title_en": "Title\r\nBcc: all@example.qa",
        "summary_ar": "ملخص",
        "summary_en": "Summary",
        "body_ar": "نص",
        "body_en": "Body",
        "opens_at_0": "2026-05-01",
        "opens_at_1": "08:00",
        "closes_at_0": "2026-05-10",
        "closes_at_1": "08:00",
        "for_citizens": "on",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    response = client.post("/admin/participation/poll/add/", form, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert t(lang, "Write this on one line, without line breaks or control characters.") in response.content.decode()
    assert not Item.objects.filter(slug="crlf").exists()


@pytest.mark.parametrize("field", ["title_ar", "title_en"])
def test_the_database_refuses_a_title_with_a_line_break(field):
    poll = PollFactory(state=State.DRAFT)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=poll.pk).update(**{field: "Bus\nroutes"})


@HOSTILE_SETTINGS
@given(title=hostile_text)
@example(title="Bus routes\r\nBcc: all@example.qa")
def test_a_result_email_subject_never_breaks(world, title):
    """Any title the model accepts makes a subject that Django will send."""
    item = world["poll"]
    item.title_en = title[:200]
    try:
        item.full_clean()
    except ValidationError:
        return
    with translation.override("en"):
        subject = render_to_string("participation/email/results_subject.txt", {"item": item}).strip()
    EmailMessage(subject, "body", to=["someone@example.qa"]).message()  # raises BadHeaderError on CR/LF
    assert not breaks_a_line(subject)


def test_changelist_guard_accepts_ordinary_filters():
    from django.http import QueryDict

    assert changelist_parameter_problem(QueryDict("opens_at__year=2026&opens_at__month=5&q=باص"), "opens_at") is None
    assert changelist_parameter_problem(QueryDict("opens_at__year=٢٠٢٦"), "opens_at")
    assert changelist_parameter_problem(QueryDict("q=a%0Db"), "opens_at")


# ---------------------------------------------------------------------------
# The request guard
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/{lang}/participate/?q=%00",
        "/{lang}/participate/?q=%ED%A0%80",
        "/{lang}/participate/?page=%FF",
        "/{lang}/polls/%00/",
        "/{lang}/unsubscribe/%00/",
    ],
)
def test_guard_refuses_nul_and_invalid_utf8_in_the_page_language(world, client, lang, path):
    response = client.get(path.format(lang=lang))
    assert_refusal(response, lang)
    assert (
        t(
            lang,
            "The address or the form contained characters that cannot be read, such as invisible control "
            "characters. Go back, check what you typed and try again.",
        )
        in response.content.decode()
    )


@pytest.mark.parametrize("raw", KNOWN_RAW + [b"\x00"])
def test_guard_refuses_bad_form_bodies(world, citizen_client, lang, raw):
    body = b"choice=" + b"".join(b"%%%02X" % byte for byte in raw)
    response = citizen_client.post(
        f"/{lang}/referendums/new-law/", body, content_type="application/x-www-form-urlencoded"
    )
    assert_refusal(response, lang)
    response = citizen_client.post(
        f"/{lang}/feedback/",
        b"path=%00&answer=yes",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert re.search(r"[\u0621-\u064a]" if lang == "ar" else r"[A-Za-z]{4}", response.json()["error"])


@pytest.mark.parametrize("cookie", ["abc\x00defghijklmnop", '"\\000\\000\\000\\000\\000\\000\\000\\000\\000"'])
def test_guard_drops_a_session_cookie_with_a_nul(world, client, lang, cookie):
    """On PostgreSQL this was a 500 on every page: the session is looked up by its key."""
    client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    for path in (f"/{lang}/", f"/{lang}/participate/", f"/{lang}/accounts/login/"):
        response = client.get(path)
        assert response.status_code == 200
        assert_page_language(response, lang)


@HOSTILE_SETTINGS
@given(
    page=st.sampled_from(["/{lang}/", "/{lang}/participate/", "/{lang}/referendums/new-law/", "/{lang}/feedback/"]),
    pairs=st.lists(st.tuples(hostile_value, hostile_value), max_size=3),
    method=st.sampled_from(["get", "post"]),
    encoding=st.sampled_from(["urlencoded", "multipart"]),
)
def test_guarded_stack(world, citizen_client, lang, page, pairs, method, encoding):
    """The whole stack as deployed, guard included: still no 500, and refusals in the page's language."""
    if encoding == "multipart":
        pairs = [(text_of(k), text_of(v)) for k, v in pairs]
    before = row_counts()
    response = send(citizen_client, method, page.format(lang=lang), pairs, encoding=encoding)
    check(response, lang, before, [v for pair in pairs for v in pair], accepted=(200, 302, 405))


def test_admin_refuses_a_person_name_with_a_line_break(lang, bare_stack):
    superuser = Client()
    superuser.force_login(SuperUserFactory())
    person = VerifiedUserFactory(full_name="Maryam Al-Thani")
    response = superuser.get(f"/admin/accounts/user/{person.pk}/change/", HTTP_ACCEPT_LANGUAGE=lang)
    form = response.context["adminform"].form
    data = {
        name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        full_name="Maryam\r\nAl-Thani",
        email=person.email,
        segment=person.segment,
        identity_number=person.identity_number,
    )
    response = superuser.post(f"/admin/accounts/user/{person.pk}/change/", data, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert t(lang, "Write this on one line, without line breaks or control characters.") in response.content.decode()
    person.refresh_from_db()
    assert person.full_name == "Maryam Al-Thani"
