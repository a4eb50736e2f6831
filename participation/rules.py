"""Who may take part where, and if not, why. Views, templates, admin and services all ask here.

This is the citizens' side. What staff may do (preview drafts, change, schedule, moderate, audit) is decided
in participation/permissions.py.
"""

import enum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import PERSONA_FIELDS

from .models import AUDIENCE_FIELDS, Kind, PollBallot, ReferendumParticipation, State


class Barrier(enum.Enum):
    """Why a person cannot take part in an item right now."""

    DRAFT = _("This item has not been published.")
    NOT_YET_OPEN = _("This item is not open yet.")
    CLOSED = _("This item has closed. You can no longer take part.")
    NOT_LOGGED_IN = _("Sign in to take part.")
    NO_SEGMENT = _("Tell us in your profile whether you are a citizen, resident or visitor to take part.")
    WRONG_SEGMENT = _("This item is open to other groups of people than yours.")
    WRONG_PERSONA = _("This item is open only to some groups of people, and your profile does not match them.")
    NOT_VERIFIED = _("Your identity must be verified before you can take part in this item.")
    ALREADY_TOOK_PART = _("You have already taken part. Thank you.")

    @property
    def message(self):
        return self.value


def eligibility_barrier(user, item):
    """Is this person in the item's audience? Says nothing about time or earlier ballots."""
    if not user.is_authenticated:
        return Barrier.NOT_LOGGED_IN
    if not user.segment:
        return Barrier.NO_SEGMENT
    if not getattr(item, AUDIENCE_FIELDS[user.segment]):
        return Barrier.WRONG_SEGMENT
    wanted = item.personas
    if wanted and not any(getattr(user, PERSONA_FIELDS[persona]) for persona in wanted):
        return Barrier.WRONG_PERSONA
    if item.requires_verified_identity and not user.is_verified:
        return Barrier.NOT_VERIFIED
    return None


def time_barrier(item, now=None):
    state = item.current_state(now or timezone.now())
    if state == State.DRAFT:
        return Barrier.DRAFT
    if state == State.SCHEDULED:
        return Barrier.NOT_YET_OPEN
    if state != State.OPEN:
        return Barrier.CLOSED
    return None


def has_taken_part(user, item):
    if not user.is_authenticated:
        return False
    if item.kind == Kind.POLL:
        return item.poll_ballots.filter(voter=user).exists()
    if item.kind == Kind.REFERENDUM:
        return item.referendum_participations.filter(voter=user).exists()
    return False


def taken_part_ids(user):
    """has_taken_part for a whole list: the ids of the items a person took part in, in two queries."""
    if not user.is_authenticated:
        return set()
    polls = PollBallot.objects.filter(voter=user).values_list("item_id", flat=True)
    referendums = ReferendumParticipation.objects.filter(voter=user).values_list("item_id", flat=True)
    return set(polls) | set(referendums)


def participation_barrier(user, item, now=None, taken_part=None):
    """The first reason this person cannot vote or comment on the item now, or None."""
    barrier = time_barrier(item, now) or eligibility_barrier(user, item)
    if barrier:
        return barrier
    if taken_part is None:
        taken_part = has_taken_part(user, item)
    return Barrier.ALREADY_TOOK_PART if taken_part else None


def can_see_results(item, now=None):
    """Poll results: live if the poll says so, otherwise once closed. Referendums: once published."""
    state = item.current_state(now)
    if item.kind == Kind.REFERENDUM:
        return state == State.PUBLISHED
    if item.kind == Kind.POLL:
        return state in (State.CLOSED, State.PUBLISHED) or (item.live_results and state == State.OPEN)
    return False
