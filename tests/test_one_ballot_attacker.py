"""One ballot per person, played as an attacker who writes a second ballot straight to the table.

The voting services refuse a second ballot (tests/participation/test_services_voting.py) and a race of two
(tests/participation/test_concurrency.py); these check that the database refuses it too, for any other
writer: a shell, a script, a later bug (docs/architecture.md, "Invariants the database holds").
"""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from participation.models import PollBallot, ReferendumParticipation
from tests.builders.items import make_poll, make_referendum, vote, vote_referendum
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_poll_ballot_written_around_the_service():
    voter = VerifiedUserFactory()
    poll = make_poll(questions=1, options=2)
    vote(voter, poll, [poll.questions.get().options.first()])
    with pytest.raises(IntegrityError), transaction.atomic():
        PollBallot.objects.create(item=poll, voter=voter, segment=voter.segment)
    assert PollBallot.objects.filter(item=poll, voter=voter).count() == 1


def test_the_database_refuses_a_second_referendum_participation_written_around_the_service():
    voter = VerifiedUserFactory()
    referendum = make_referendum()
    vote_referendum(voter, referendum, referendum.questions.get().options.first())
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferendumParticipation.objects.create(
            item=referendum, voter=voter, segment=voter.segment, voted_on=timezone.localdate()
        )
    assert ReferendumParticipation.objects.filter(item=referendum, voter=voter).count() == 1
