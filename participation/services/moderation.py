"""Moderation: staff publish or hide citizens' comments, with a reason the author may be shown."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import permissions
from ..errors import InvalidComment
from ..models import AuditEntry, Comment
from . import trail


def moderate_comment(moderator, comment, approve, reason=""):
    """Publish or hide a comment. Hiding needs a reason, which the author may be shown.

    Asks participation.moderate_comment for the moderator (None: the system). The decision and its
    audit entry (naming the moderator) are written in one transaction.
    """
    if moderator is not None:
        permissions.require(moderator, "participation.moderate_comment", comment)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidComment(_("Give a reason for hiding the comment."))
    with transaction.atomic():
        # Two moderators deciding at once are taken one after the other, so the trail's order is the order in
        # which the decisions were stored and the last entry on the trail is the comment's state.
        Comment.objects.select_for_update().filter(pk=comment.pk).first()
        comment.status = Comment.Status.PUBLISHED if approve else Comment.Status.HIDDEN
        comment.moderation_reason = reason
        comment.moderated_by = moderator
        comment.moderated_at = timezone.now()
        comment.save(update_fields=["status", "moderation_reason", "moderated_by", "moderated_at"])
        trail.record_by(
            moderator,
            AuditEntry.Action.MODERATE,
            obj=comment,
            entity=comment.item.entity,
            details={"status": comment.status, "reason": reason, "item": comment.item.slug},
        )
    return comment
