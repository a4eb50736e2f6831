"""Response headers: the Content-Security-Policy, the Permissions-Policy, and `Cache-Control: no-store` on
every page that shows a receipt, an identity number or audit data (settings.NO_STORE_VIEWS).

The browser half (nothing is refused under the policy, the admin's widgets work) is
tests/e2e/test_content_security_policy.py; this half needs no browser.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from participation.models import Item, Kind
from tests.builders.items import make_poll, make_referendum
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


# ---------------------------------------------------------------------------
# Content-Security-Policy and Permissions-Policy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/{lang}/", "/{lang}/about/", "/{lang}/accounts/signup/", "/admin/login/"])
def test_every_page_sends_a_policy_without_unsafe_inline(client, lang, path):
    response = client.get(path.format(lang=lang), HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    policy = dict(
        (directive.split(" ", 1) + [""])[:2]
        for directive in (d.strip() for d in response["Content-Security-Policy"].split(";"))
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions


def test_no_template_of_ours_has_an_inline_script_or_style():
    """What the policy would refuse, found before a browser does: <script> without src, <style>, style="", on*=."""
    offences = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for pattern in (
                r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>",
                r"<style\b",
                r"\sstyle=",
                r"\son[a-z]+=",
            ):
                if re.search(pattern, text, flags=re.IGNORECASE):
                    offences.append(f"{template}: {pattern}")
    assert offences == []


# ---------------------------------------------------------------------------
# Cache-Control: no-store
# ---------------------------------------------------------------------------


@pytest.fixture
def items(db):
    now = timezone.now()
    poll = make_poll()
    referendum = make_referendum()
    closed = make_poll()
    Item.objects.filter(pk=closed.pk).update(opens_at=now - timedelta(days=9), closes_at=now - timedelta(days=1))
    return {"poll": poll, "referendum": referendum, "closed": closed}


# Every view in settings.NO_STORE_VIEWS, with the arguments of one of its pages.
PRIVATE_PAGES = {
    "accounts:profile": lambda items: {},
    "account_signup": lambda items: {},
    "participation:poll_detail": lambda items: {"slug": items["poll"].slug},
    "participation:poll_thanks": lambda items: {"slug": items["poll"].slug},
    "participation:referendum_detail": lambda items: {"slug": items["referendum"].slug},
    "participation:referendum_receipts": lambda items: {"slug": items["referendum"].slug},
    "participation:audit_index": lambda items: {},
    "participation:audit_trail_csv": lambda items: {},
    "participation:export_csv": lambda items: {"kind": Kind.POLL, "slug": items["closed"].slug, "name": "ballots"},
    "participation:export_sha256": lambda items: {"kind": Kind.POLL, "slug": items["closed"].slug, "name": "ballots"},
}


def test_the_url_list_is_the_setting():
    """A view added to NO_STORE_VIEWS gets a row here (and so a test), and the other way round."""
    assert set(PRIVATE_PAGES) == set(settings.NO_STORE_VIEWS)


@pytest.mark.parametrize("view_name", sorted(PRIVATE_PAGES))
def test_private_pages_are_never_stored(superuser_client, items, lang, view_name):
    with translation.override(lang):
        url = reverse(view_name, kwargs=PRIVATE_PAGES[view_name](items))
    response = superuser_client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code < 500
    assert "no-store" in cache_control(response), (url, response.status_code, response.get("Cache-Control"))
    assert "private" in cache_control(response)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/{user}/change/",  # the identity number
        "/admin/participation/auditentry/",  # audit data
    ],
)
def test_admin_pages_with_identity_or_audit_data_are_never_stored(superuser_client, superuser, url):
    response = superuser_client.get(url.format(user=superuser.pk))
    assert response.status_code == 200
    assert "no-store" in cache_control(response)


def test_the_vote_and_its_receipt_are_never_stored(client, items, lang):
    referendum = items["referendum"]
    voter = VerifiedUserFactory()
    client.force_login(voter)
    option = referendum.questions.get().options.order_by("position").first()
    with translation.override(lang):
        detail = reverse("participation:referendum_detail", kwargs={"slug": referendum.slug})
    # The receipt comes in the answer to the vote itself (docs/secrecy.md).
    receipt = client.post(detail, {"choice": str(option.pk)}, HTTP_ACCEPT_LANGUAGE=lang)
    assert receipt.status_code == 200, receipt.content[:500]
    assert "receipt-code" in receipt.content.decode()
    assert "no-store" in cache_control(receipt)
    assert f'lang="{lang}"' in receipt.content.decode()


def test_public_pages_may_be_cached(client, lang):
    """The rule is a list, not a blanket: the about page carries no no-store."""
    response = client.get(f"/{lang}/about/")
    assert "no-store" not in cache_control(response)
