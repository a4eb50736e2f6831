"""A comment or reaction that was checked before a close and written after it is refused, as a late ballot is.

The page a person comments from was read while the consultation was open; an admin closes it early before the
comment is sent. The service re-reads the item inside the comment's transaction (voting.lock_open_item), so
the stale copy the view holds cannot let the comment in.
"""

import pytest
from django.utils import translation

from participation.errors import Refused
from participation.models import Comment, SectionReaction
from participation.rules import Barrier
from participation.services import consultation, lifecycle
from tests.builders.items import make_consultation
from tests.builders.users import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_consultation():
    """The consultation as the page read it (open), then closed by an admin before the comment arrives."""
    item = make_consultation()
    assert lifecycle.close_item(item.pk)
    return item  # still says "scheduled" and a future close, as the view's copy would


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_comment_sent_after_the_close_is_refused(stale_consultation, lang):
    with pytest.raises(Refused) as refusal:
        consultation.add_comment(person(verified=True), stale_consultation, "Sent after the close")
    assert refusal.value.barrier == Barrier.CLOSED
    with translation.override(lang):
        assert str(refusal.value.message) == str(Barrier.CLOSED.message)
    assert not Comment.objects.exists()


def test_a_reaction_sent_after_the_close_is_refused(stale_consultation):
    with pytest.raises(Refused):
        consultation.react_to_section(person(verified=True), stale_consultation.sections.first(), agrees=True)
    assert not SectionReaction.objects.exists()
