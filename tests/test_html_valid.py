"""Every public page is valid HTML for the W3C Nu Html Checker (vnu), in Arabic and in English.

The pages are rendered with the test client over the demo content (`seed_demo`: an open, an upcoming and a closed
item of each kind, with published results), written to a temporary folder and checked in ONE run of vnu, because
each start of the Java checker costs seconds. The checker is the vnu-jar package pinned in package-lock.json
(`npm ci` into node_modules/, which `make test` does when npm is present), run with the machine's java.

Without java or vnu.jar the test skips and says why; with PORTAL_REQUIRE_SERVICES=1 (CI) it fails instead.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import translation

from accounts.models import User
from hukoomi_portal import views as project_views
from participation.models import Item
from participation.services import voting
from tests.conftest import LANGS, service_missing
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parent.parent
VNU_JAR = Path(os.environ.get("PORTAL_VNU_JAR", PROJECT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"))
VNU_TIMEOUT = 300

# Paths after /<lang>/ that anyone may open, with the status each must answer.
ANONYMOUS_PAGES = {
    "": 200,
    "about/": 200,
    "policy/": 200,
    "participate/": 200,
    "participate/?tab=open": 200,
    "participate/?tab=upcoming": 200,
    "participate/?tab=closed": 200,
    "participate/?q=metro": 200,
    "participate/?tab=nonsense": 400,
    "polls/metro-night-service/": 200,
    "polls/school-bus-routes/": 200,
    "polls/cycling-lanes-2026/": 200,
    "polls/cycling-lanes-2026/results/": 200,
    "polls/metro-night-service/results/": 200,
    "referendums/healthy-schools-law/": 200,
    "referendums/clinic-hours/": 200,
    "referendums/smoke-free-parks/": 200,
    "referendums/smoke-free-parks/results/": 200,
    "referendums/smoke-free-parks/receipts/": 200,
    "referendums/smoke-free-parks/receipts/?code=ABCD-EFGH": 200,
    "referendums/healthy-schools-law/receipts/": 404,
    "consultations/road-safety-strategy/": 200,
    "consultations/telehealth-policy/": 200,
    "consultations/food-labelling/": 200,
    "consultations/food-labelling/outcome/": 200,
    "audit/checkpoint/": 200,
    "you-said-we-did/": 200,
    "you-said-we-did/?status=overdue": 200,
    "you-said-we-did/?status=nonsense": 400,
    "you-said-we-did/health/": 200,
    "data/": 200,
    "feeds/opened.atom?entity=nobody": 404,
    "api/": 200,
    "audit/": 403,
    "accounts/login/": 200,
    "accounts/signup/": 200,
    "accounts/password/reset/": 200,
    "audience/?segment=nobody": 400,
    "unsubscribe/not-a-token/": 400,
    "no-such-page/": 404,
}
# Pages of a signed-in citizen (forms to vote, comment and react), of an auditor, and after a vote.
CITIZEN_PAGES = {
    "": 200,
    "profile/": 200,
    "polls/metro-night-service/": 200,
    "referendums/healthy-schools-law/": 200,
    "consultations/road-safety-strategy/": 200,
}
AUDITOR_PAGES = {"audit/": 200, "audit/checkpoint/": 200}


def _vnu_command():
    java = shutil.which("java")
    if java is None:
        service_missing("needs java for the W3C Nu Html Checker (apt-get install default-jre-headless)")
    if not VNU_JAR.is_file():
        service_missing(f"needs the W3C Nu Html Checker at {VNU_JAR}: run `npm ci --ignore-scripts` (make test does)")
    return [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json"]


def _get(client, url, expected, pages):
    response = client.get(url)
    assert response.status_code == expected, f"{url} answered {response.status_code}, expected {expected}"
    pages[url] = response.content


def _server_error_pages(pages):
    """The 500 page, from the project's handler (400, 403 and 404 come through the client above)."""
    factory = RequestFactory()
    for lang in LANGS:
        with translation.override(lang):
            request = factory.get(f"/{lang}/")
            request.user = AnonymousUser()
            request.LANGUAGE_CODE = lang
            pages[f"/{lang}/error-500"] = project_views.server_error(request).content


def _render_everything():
    call_command("seed_demo", force=True, verbosity=0)
    pages = {}
    anonymous = Client()
    for lang in LANGS:
        for path, status in ANONYMOUS_PAGES.items():
            _get(anonymous, f"/{lang}/{path}", status, pages)

    citizen = Client()
    citizen.force_login(User.objects.get(email="citizen@demo.hukoomi.qa"))
    auditor = Client()
    auditor.force_login(User.objects.get(email="auditor@demo.hukoomi.qa"))
    for lang in LANGS:
        for path, status in CITIZEN_PAGES.items():
            _get(citizen, f"/{lang}/{path}?as=citizen", status, pages)
        for path, status in AUDITOR_PAGES.items():
            _get(auditor, f"/{lang}/{path}?as=auditor", status, pages)

    # After voting: the poll's thank-you page, the referendum's receipt (shown once, in the answer to the vote)
    # and the form again with an error (already voted).
    poll = Item.objects.get(slug="metro-night-service")
    referendum = Item.objects.get(slug="healthy-schools-law")
    choices = {str(q.pk): [str(q.options.first().pk)] for q in poll.questions.all()}
    option = referendum.questions.first().options.first()
    for lang in LANGS:
        voter = Client()
        user = VerifiedUserFactory()
        voter.force_login(user)
        voting.cast_poll_ballot(user, poll, choices)
        _get(voter, f"/{lang}/polls/metro-night-service/thanks/", 200, pages)
        # The referendum's "check your answer" step, "Change", and a comment refused beside its form.
        for step in ("check", "change"):
            response = voter.post(f"/{lang}/referendums/healthy-schools-law/", {"step": step, "choice": str(option.pk)})
            assert response.status_code == 200, response.status_code
            pages[f"/{lang}/referendums/healthy-schools-law/{step}"] = response.content
        response = citizen.post(f"/{lang}/consultations/road-safety-strategy/comment/", {"body": "<b>bold</b>", "section": ""})
        assert response.status_code == 400, response.status_code
        pages[f"/{lang}/consultations/road-safety-strategy/comment-refused"] = response.content
        citizen.post(f"/{lang}/consultations/road-safety-strategy/sections/1/react/", {"agrees": "yes"})
        response = citizen.get(f"/{lang}/consultations/road-safety-strategy/")
        assert 'aria-pressed="true"' in response.content.decode()
        pages[f"/{lang}/consultations/road-safety-strategy/reacted"] = response.content
        response = voter.post(f"/{lang}/referendums/healthy-schools-law/", {"choice": str(option.pk)})
        assert response.status_code == 200, response.status_code
        pages[f"/{lang}/referendums/healthy-schools-law/receipt"] = response.content
        response = voter.post(f"/{lang}/referendums/healthy-schools-law/", {"choice": str(option.pk)})
        assert response.status_code >= 400
        pages[f"/{lang}/referendums/healthy-schools-law/again"] = response.content
    _server_error_pages(pages)
    return pages


def test_every_public_page_is_valid_html_in_both_languages():
    command = _vnu_command()
    pages = _render_everything()
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        names = {}
        for n, (url, content) in enumerate(sorted(pages.items())):
            path = Path(folder) / f"page-{n:03d}.html"
            path.write_bytes(content)
            names[path.name] = url
        done = subprocess.run(  # noqa: S603 (fixed command, our own temporary files)
            [*command, *sorted(str(Path(folder) / name) for name in os.listdir(folder))],
            capture_output=True,
            text=True,
            timeout=VNU_TIMEOUT,
        )
    # vnu writes its JSON report to stderr; exit status 1 means "errors found".
    report = json.loads(done.stderr or done.stdout)
    errors = [
        f"{names.get(message.get('url', '').rsplit('/', 1)[-1], message.get('url'))}:{message.get('lastLine')}: {message['message']}"
        f"\n    {message.get('extract', '').strip()}"
        for message in report["messages"]
        if message.get("type") in ("error", "non-document-error")
    ]
    assert not errors, f"{len(errors)} HTML errors in {len(pages)} pages:\n" + "\n".join(errors)
    assert len(pages) >= 2 * (len(ANONYMOUS_PAGES) + len(CITIZEN_PAGES) + len(AUDITOR_PAGES))
