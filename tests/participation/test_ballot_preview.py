"""The staff's preview of a draft's ballot is the ballot voters will see: the same questions, options, hints and
button (templates/participation/includes/poll_questions.html and referendum_question.html serve both)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Segment
from participation.models import Item, State
from tests.builders.items import make_poll, make_referendum
from tests.builders.users import MINISTRY_STAFF, make_staff
from tests.factories import VerifiedUserFactory

from .conftest import as_user, page, url

pytestmark = pytest.mark.django_db

CHOICES = re.compile(r'(?s)<fieldset class="mb-4 choice-list".*?</fieldset>')
BUTTON = re.compile(r'<button type="submit" class="btn btn-primary btn-lg">(.*?)</button>')


def ballot(html):
    """The choice fieldsets without the preview's "preview-" prefix, and the button's words."""
    return [fieldset.replace("preview-", "") for fieldset in CHOICES.findall(html)], BUTTON.findall(html)


@pytest.mark.parametrize("make", [make_poll, make_referendum], ids=["poll", "referendum"])
def test_the_preview_is_the_ballot_voters_will_see(client, lang, entity, make):
    draft = make(entity=entity, state=State.DRAFT, opens_at=timezone.now() + timedelta(days=3))
    address = url(lang, f"{draft.kind}_detail", slug=draft.slug)
    preview = page(as_user(client, make_staff(MINISTRY_STAFF, entity), lang).get(address))
    client.logout()
    Item.objects.filter(pk=draft.pk).update(state=State.OPEN, opens_at=timezone.now() - timedelta(hours=1))
    client.force_login(VerifiedUserFactory(segment=Segment.CITIZEN))
    live = page(client.get(address))
    assert ballot(preview) == ballot(live)
    assert ballot(live)[0] and ballot(live)[1]
