"""Consultations: citizens' comments and section reactions, and staff's public corrections.

Citizens' writes ask Barrier (rules.py) for time and eligibility; a correction is staff's and asks
permissions.require(staff, "participation.correct_item").
"""

import re

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .. import permissions
from ..errors import InvalidComment, LifecycleError, Refused
from ..models import COMMENT_MAX, AuditEntry, Comment, ItemCorrection, Kind, SectionReaction, content_frozen
from ..rules import eligibility_barrier, time_barrier
from . import trail
from .voting import lock_open_item

HTML_RE = re.compile(r"<\s*[a-zA-Z/!?]")


def _clean_comment(body):
    body = (body or "").strip()
    if not body:
        raise InvalidComment(_("Write your comment before sending it."))
    if len(body) > COMMENT_MAX:
        raise InvalidComment(
            _("Comments can be at most %(max)d characters; yours has %(count)d.")
            % {"max": COMMENT_MAX, "count": len(body)}
        )
    if HTML_RE.search(body):
        raise InvalidComment(_("Comments cannot contain HTML. Write plain text, without < and > around words."))
    return body


def _check_commenter(user, item):
    if item.kind != Kind.CONSULTATION:
        raise InvalidComment(_("Comments are taken on consultations only."))
    barrier = time_barrier(item) or eligibility_barrier(user, item)
    if barrier:
        raise Refused(barrier)


def add_comment(user, item, body, section=None):
    """Add a comment on the whole draft or on one of its sections.

    It waits for moderation or appears at once, as the consultation is set.
    """
    _check_commenter(user, item)
    body = _clean_comment(body)
    if section is not None and section.item_id != item.pk:
        raise InvalidComment(_("That section is not part of this consultation."))
    status = Comment.Status.PENDING if item.moderate_before_publishing else Comment.Status.PUBLISHED
    with transaction.atomic():
        lock_open_item(item)  # as a ballot: no comment lands after the close (the accountability figures count them)
        return Comment.objects.create(item=item, section=section, author=user, body=body, status=status)


def react_to_section(user, section, agrees):
    """Agree or disagree with a section; a second answer replaces the first."""
    _check_commenter(user, section.item)
    with transaction.atomic():
        lock_open_item(section.item)
        # update_or_create re-reads the row when a concurrent first answer wins the unique constraint.
        reaction, _created = SectionReaction.objects.update_or_create(
            section=section, user=user, defaults={"agrees": bool(agrees)}
        )
    return reaction


def publish_correction(staff, item, note_ar, note_en):
    """A dated public note that corrects an item whose content is frozen (it has opened).

    Asks participation.correct_item for the staff member (None: the system, e.g. a data fix in a
    command). Written with its audit entry, naming the staff member, in one transaction. Add-only: the database refuses changing or
    deleting a correction (migration 0012_frozen_content). Before opening, staff correct the item itself.
    """
    if not content_frozen(item):
        raise LifecycleError(_("This item has not opened yet: correct the item itself instead of adding a correction."))
    if staff is not None:
        permissions.require(staff, "participation.correct_item", item)
    with transaction.atomic():
        correction = ItemCorrection.objects.create(item=item, note_ar=note_ar, note_en=note_en, created_by=staff)
        trail.record_by(
            staff,
            AuditEntry.Action.CREATE,
            obj=correction,
            entity=item.entity,
            details={"item_id": item.pk, "note_ar": note_ar, "note_en": note_en},
        )
    return correction
