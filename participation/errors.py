"""The refusals of the services (participation/services/): each carries a translated message and an HTTP status.

They live outside the services package so that the permissions module (permissions.py) can raise
NotPermitted without importing the services.
"""

from django.utils.translation import gettext_lazy as _

from .rules import Barrier


class ParticipationError(Exception):
    status = 400

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class Refused(ParticipationError):
    """The person may not take part (time, eligibility, verification)."""

    status = 403

    def __init__(self, barrier):
        super().__init__(barrier.message)
        self.barrier = barrier


class AlreadyVoted(ParticipationError):
    status = 409

    def __init__(self):
        super().__init__(Barrier.ALREADY_TOOK_PART.message)


class InvalidBallot(ParticipationError):
    status = 400


class InvalidComment(ParticipationError):
    status = 400


class LifecycleError(ParticipationError):
    status = 409


class NotPermitted(ParticipationError):
    """A member of staff asked for something their role, their ministry or the item's state does not allow."""

    status = 403

    def __init__(self, message=None):
        super().__init__(message or _("You are not allowed to do this."))
