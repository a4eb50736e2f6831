"""The API is never a way around a rule: every hidden thing of the seeded world is asked for through every
endpoint and every filter, anonymously and as staff, and must not come back.

Hidden: a draft (its title, its slug), a written but unpublished outcome, hidden and pending comments,
the results, digest and receipts of a referendum still awaiting approval, anything of an open referendum's
sealed box, live counts of a poll that does not show them, and who anybody is (e-mail, name, identity number).
"""

import itertools
import json

import pytest

from participation.models import Comment, Item, Result
from tests.factories import SuperUserFactory

from .conftest import SECRET_DRAFT, SECRET_EMAIL, SECRET_NAME, SECRET_OUTCOME

pytestmark = pytest.mark.django_db

ITEM_ENDPOINTS = ("", "results/", "receipts/", "outcome/")
IDENTITY_KEYS = {"email", "full_name", "identity_number", "author", "voter", "created_by", "members", "moderated_by", "user"}
FILTERS = {
    "type": ["poll", "referendum", "consultation"],
    "state": ["scheduled", "open", "closed"],
    "entity": ["health", "transport"],
    "segment": ["visitor", "citizen", "resident"],
    "persona": ["student", "parent"],
}


def secrets_of(world):
    unapproved = Result.objects.get(item=world["unapproved"])
    hidden = [c.body for c in Comment.objects.exclude(status=Comment.Status.PUBLISHED)]
    return {
        "draft title": SECRET_DRAFT,
        "draft slug": world["draft"].slug,
        "unpublished outcome": SECRET_OUTCOME,
        "voter e-mail": SECRET_EMAIL,
        "voter name": SECRET_NAME,
        "identity number": world["voter"].identity_number,
        "unapproved digest": unapproved.ballots_digest,
        **{f"hidden or pending comment {n}": body for n, body in enumerate(hidden)},
        **{f"unapproved receipt {n}": receipt for n, receipt in enumerate(world["unapproved_receipts"])},
    }


def every_address(world):
    slugs = list(Item.objects.values_list("slug", flat=True))  # drafts included
    yield "/api/v1/entities/"
    yield from (f"/api/v1/entities/{slug}/" for slug in ("health", "transport"))
    yield "/api/v1/audit/checkpoint/"
    yield "/api/v1/schema/"
    yield from (f"/api/v1/items/{slug}/{end}" for slug in slugs for end in ITEM_ENDPOINTS)
    yield from ("/api/v1/outcomes/", "/api/v1/outcomes/?entity=transport", "/api/v1/outcomes/?entity=health")
    yield "/api/v1/items/"
    for name, values in FILTERS.items():
        yield from (f"/api/v1/items/?{name}={value}" for value in values)
    for kind, state, entity in itertools.product(FILTERS["type"], FILTERS["state"], FILTERS["entity"]):
        yield f"/api/v1/items/?type={kind}&state={state}&entity={entity}"
    for words in ("SECRET", SECRET_DRAFT, "DRAFT", "عنوان"):
        yield f"/api/v1/items/?q={words}"


def keys_in(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_in(inner)


@pytest.fixture(params=["anonymous", "superuser"])
def asker(request, client):
    if request.param == "superuser":
        client.force_login(SuperUserFactory())  # the API reads no session: staff see what everyone sees
    return client


def test_nothing_hidden_comes_back_through_any_endpoint_or_filter(asker, world, settings):
    settings.PORTAL_API_RATE = "100000/minute"
    secrets = secrets_of(world)
    leaks = []
    for address in every_address(world):
        response = asker.get(address)
        assert response.status_code in (200, 404), (address, response.status_code)
        text = response.content.decode("utf-8")
        leaks += [f"{what} in {address}" for what, secret in secrets.items() if secret and secret in text]
        if response["Content-Type"] == "application/json":
            leaks += [f"key {key!r} in {address}" for key in set(keys_in(json.loads(text))) & IDENTITY_KEYS]
    assert not leaks, "\n".join(leaks)


def test_a_draft_is_not_found_by_any_way(asker, world):
    for end in ITEM_ENDPOINTS:
        assert asker.get(f"/api/v1/items/{world['draft'].slug}/{end}").status_code == 404


def test_what_is_not_public_yet_is_not_there(client, world):
    assert client.get("/api/v1/items/awaiting-approval/results/").json()["status"] == "not_available"
    assert client.get("/api/v1/items/awaiting-approval/receipts/").status_code == 404
    assert client.get("/api/v1/items/open-referendum/results/").json()["questions"] == []
    assert client.get("/api/v1/items/quiet-poll/results/").json()["ballots"] is None
    assert client.get("/api/v1/items/open-consultation/outcome/").status_code == 404
    outcome = client.get("/api/v1/items/transport-law/outcome/").json()
    assert outcome["heard"] is None and outcome["changed"] is None
