"""Every call the builders make into participation/services/, in one place.

Staff writes are made as the system (actor None), as the worker, beat and commands do: a builder sets up a
world, it does not test who may act. Tests that exercise a service, or its permission, call it themselves
with the actor they mean.
"""

from contextlib import contextmanager
from unittest import mock

from participation.services import consultation, counting, lifecycle, moderation, voting

ABSTAIN = voting.ABSTAIN


def schedule(item):
    """Draft to scheduled (with its audit entry)."""
    return lifecycle.schedule_item(None, item)


def tally_and_publish(item, now=None):
    """What the worker does once the clock passes the close: count, then publish unless approval is needed."""
    return counting.tally_and_publish(item.pk, now=now)


def publish(item, now=None):
    """Publish the stored results of a closed item, or a consultation's outcome."""
    return lifecycle.publish_results(None, item, now=now)


def vote_poll(user, poll, choices):
    """A poll ballot: {question pk: [option pk or ABSTAIN, ...]}."""
    return voting.cast_poll_ballot(user, poll, choices)


def vote_referendum(user, referendum, choice):
    """A referendum ballot (an option pk or ABSTAIN); returns the receipt."""
    return voting.cast_referendum_ballot(user, referendum, choice)


def comment(user, item, body, section=None):
    return consultation.add_comment(user, item, body, section=section)


def react(user, section, agrees):
    return consultation.react_to_section(user, section, agrees)


def moderate(moderator, comment, approve, reason=""):
    return moderation.moderate_comment(moderator, comment, approve=approve, reason=reason)


@contextmanager
def receipts(codes):
    """Referendum ballots cast inside get these receipt codes, in order (for exports known in advance)."""
    codes = iter(codes)
    with mock.patch.object(voting, "new_receipt_code", lambda: next(codes)):
        yield
