"""A seeded world for the API tests: one of every public and hidden thing the pages know.

Every secret below carries a marker (SECRET_*) that must never appear in any answer of the API.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Segment
from participation.models import Item, State
from participation.services import consultation as consultation_service
from participation.services import lifecycle, voting
from tests.builders.audit import TALLIED, at, bus_poll, new_law_referendum, transport_consultation, transport_ministry
from tests.builders.items import make_consultation, make_poll, make_referendum, single_choices
from tests.factories import EntityFactory, UserFactory, VerifiedUserFactory

SECRET_DRAFT = "SECRET-DRAFT-TITLE"
SECRET_DRAFT_ENTITY_ITEM = "secret-draft"
SECRET_OUTCOME = "SECRET-OUTCOME-NOT-PUBLISHED"
SECRET_EMAIL = "secret.voter@example.qa"
SECRET_NAME = "SECRET-VOTER-NAME"


def get_json(client, url, **extra):
    response = client.get(url, **extra)
    return response, (response.json() if response["Content-Type"].startswith("application/json") else None)


@pytest.fixture
def world(db):
    """Published, closed, counting, live, sealed, draft and hidden things, built through the services."""
    transport = transport_ministry()
    health = EntityFactory(slug="health", name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health")
    published_poll, _people = bus_poll()
    counting_poll, _people = bus_poll(slug="bus-counting", tally=False)
    referendum, receipts = new_law_referendum()
    # Counted, but waiting for a ministry admin's approval: nothing of it is public yet.
    with mock.patch.object(lifecycle, "publish_results", lambda *args, **kwargs: None):
        unapproved, unapproved_receipts = new_law_referendum(slug="awaiting-approval", known_receipts=False)
    assert unapproved.state == State.CLOSED and unapproved.result
    consultation, comments, _moderator = transport_consultation()
    answered, _comments, _moderator = transport_consultation(slug="answered-law")
    Item.objects.filter(pk=answered.pk).update(
        outcome_heard_ar="سمعنا",
        outcome_heard_en="We heard",
        outcome_changed_ar="غيّرنا",
        outcome_changed_en="We changed",
    )
    answered.refresh_from_db()
    with at(TALLIED):
        lifecycle.publish_results(None, answered)
    # A closed consultation whose outcome is written but not published.
    Item.objects.filter(pk=consultation.pk).update(outcome_heard_en=SECRET_OUTCOME, outcome_changed_ar=SECRET_OUTCOME)

    live = make_poll(entity=health, slug="live-poll", live_results=True, for_visitors=True)
    quiet = make_poll(entity=health, slug="quiet-poll")
    voter = VerifiedUserFactory(segment=Segment.CITIZEN, email=SECRET_EMAIL, full_name=SECRET_NAME)
    voting.cast_poll_ballot(voter, live, single_choices(live))
    voting.cast_poll_ballot(voter, quiet, single_choices(quiet))
    sealed = make_referendum(entity=health, slug="open-referendum")
    voting.cast_referendum_ballot(voter, sealed, sealed.questions.get().options.first().pk)
    upcoming = make_poll(entity=health, slug="upcoming-poll", opens_at=timezone.now() + timedelta(days=2))
    open_consultation = make_consultation(entity=health, slug="open-consultation")
    commenter = UserFactory(segment=Segment.RESIDENT)
    consultation_service.add_comment(commenter, open_consultation, "SECRET-PENDING-COMMENT")
    draft = make_poll(
        entity=health, slug=SECRET_DRAFT_ENTITY_ITEM, state=State.DRAFT, title_en=SECRET_DRAFT, title_ar=SECRET_DRAFT
    )
    cache.clear()
    return {
        "transport": transport,
        "health": health,
        "published_poll": published_poll,
        "counting_poll": counting_poll,
        "referendum": referendum,
        "receipts": receipts,
        "unapproved": unapproved,
        "unapproved_receipts": unapproved_receipts,
        "consultation": consultation,
        "comments": comments,
        "answered": answered,
        "live": live,
        "quiet": quiet,
        "sealed": sealed,
        "upcoming": upcoming,
        "open_consultation": open_consultation,
        "draft": draft,
        "voter": voter,
    }
