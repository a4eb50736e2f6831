"""Fixtures and small helpers shared by the participation tests.

Expected texts are computed with the catalogue of the page's language
(`t(lang, msgid)`), so the assertions hold while the Arabic translations are
still being written, and tighten by themselves once they exist.
"""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import escape

from accounts.models import Segment
from tests.conftest import require_postgres
from tests.factories import EntityFactory, UserFactory, VerifiedUserFactory

DIR = {"ar": "rtl", "en": "ltr"}

__all__ = [
    "DIR",
    "assert_not_shown",
    "assert_page_language",
    "assert_shown",
    "page",
    "require_postgres",
    "t",
    "tn",
    "url",
]


def t(lang, message, **params):
    """`message` (a msgid or a lazy translation) in `lang`, with %-parameters filled in."""
    with translation.override(lang):
        text = str(message) if isinstance(message, Promise) else translation.gettext(message)
        return text % params if params else text


def tn(lang, singular, plural, count, **params):
    """A plural message in `lang` for `count`, with %(count)d and the other parameters filled in."""
    with translation.override(lang):
        return translation.ngettext(singular, plural, count) % {"count": count, **params}


def url(lang, name, **kwargs):
    with translation.override(lang):
        return reverse(name if ":" in name else f"participation:{name}", kwargs=kwargs)


def page(response):
    return response.content.decode()


def assert_shown(response, text):
    body = page(response)
    assert escape(text) in body, f"{text!r} not on the page (status {response.status_code})"


def assert_not_shown(response, text):
    assert escape(text) not in page(response), f"{text!r} should not be on the page"


def assert_page_language(response, lang):
    tag = re.search(r"<html[^>]*>", page(response)).group(0)
    assert f'lang="{lang}"' in tag
    assert f'dir="{DIR[lang]}"' in tag


# Admin requests: the admin has no language prefix; Accept-Language picks its language.
def admin_url(name, *args):
    return reverse(f"admin:participation_{name}", args=args)


def as_user(client, user, lang):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def shown_items(response):
    """The objects an admin changelist lists."""
    return set(response.context["cl"].result_list)


def results_url(lang, item):
    return f"/{lang}/{'polls' if item.kind == 'poll' else 'referendums'}/{item.slug}/results/"


@pytest.fixture
def entity(db):
    return EntityFactory(name_ar="وزارة المواصلات", name_en="Ministry of Transport", slug="transport")


@pytest.fixture
def other_entity(db):
    return EntityFactory(name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health", slug="health")


@pytest.fixture
def citizen(db):
    """A verified citizen: may take part in everything open to citizens."""
    return VerifiedUserFactory(full_name="Maryam Al-Thani")


@pytest.fixture
def unverified_citizen(db):
    return UserFactory()


@pytest.fixture
def visitor(db):
    return VerifiedUserFactory(segment=Segment.VISITOR)


@pytest.fixture
def citizen_client(client, citizen):
    client.force_login(citizen)
    return client
