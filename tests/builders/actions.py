"""Every call the builders make into participation.services, in one place.

The services are becoming modules with the actor first (`lifecycle.schedule_item(actor, item)`,
`moderation.moderate_comment(moderator, comment, ...)`; actor None = the system). When that lands, these
functions change and the builders that call them do not. Tests that exercise a service call it themselves.
"""

from contextlib import contextmanager
from unittest import mock

from participation import services

ABSTAIN = services.ABSTAIN


def schedule(item):
    """Draft to scheduled, as a ministry admin does in the admin (with its audit entry)."""
    return services.schedule_item(item)


def tally_and_publish(item, now=None):
    """What the worker does once the clock passes the close: count, then publish unless approval is needed."""
    return services.tally_and_publish(item.pk, now=now)


def publish(item, now=None):
    """Publish the stored results of a closed item, or a consultation's outcome."""
    return services.publish_results(item, now=now)


def vote_poll(user, poll, choices):
    """A poll ballot: {question pk: [option pk or ABSTAIN, ...]}."""
    return services.cast_poll_ballot(user, poll, choices)


def vote_referendum(user, referendum, choice):
    """A referendum ballot (an option pk or ABSTAIN); returns the receipt."""
    return services.cast_referendum_ballot(user, referendum, choice)


def comment(user, item, body, section=None):
    return services.add_comment(user, item, body, section=section)


def react(user, section, agrees):
    return services.react_to_section(user, section, agrees)


def moderate(moderator, comment, approve, reason=""):
    return services.moderate_comment(moderator, comment, approve=approve, reason=reason)


@contextmanager
def receipts(codes):
    """Referendum ballots cast inside get these receipt codes, in order (for exports known in advance)."""
    codes = iter(codes)
    with mock.patch.object(services, "new_receipt_code", lambda: next(codes)):
        yield
