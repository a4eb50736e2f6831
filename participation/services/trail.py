"""Appending to the audit trail (participation/audit.py defines the chain and checks it): the trail's one writer.

Services call record() inside the transaction of the change it records, so the change and its entry
commit together. Django's own records reach it through signals.py (admin log entries, staff log-ins),
and downloads through the export views.
"""

import json

from django.db import IntegrityError, transaction

from .. import audit
from ..models import AuditEntry

APPEND_ATTEMPTS = 5


def record(action, *, actor=None, obj=None, entity=None, details=None, request=None, object_repr=None):
    """Append one entry to the trail and return it.

    Runs in its own savepoint; a concurrent append that took the same head
    makes the unique previous_hash refuse ours, and we retry on the new head.
    """
    if audit.acting_as_system():
        actor, request = None, None
    request = request or (None if audit.acting_as_system() else audit.current_request())
    if actor is None and request is not None and getattr(request, "user", None) and request.user.is_authenticated:
        actor = request.user
    if entity is None and obj is not None:
        entity = getattr(obj, "entity", None) or (obj if obj.__class__.__name__ == "Entity" else None)
    for attempt in range(APPEND_ATTEMPTS):
        try:
            with transaction.atomic():
                head = AuditEntry.objects.order_by("-pk").values_list("entry_hash", flat=True).first()
                entry = AuditEntry(
                    actor=actor,
                    actor_label=(actor.email if actor is not None else "system"),
                    action=action,
                    object_type=obj._meta.concrete_model._meta.label_lower if obj is not None else "",
                    object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
                    object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:300],
                    entity=entity,
                    details=json.loads(json.dumps(details or {}, default=str)),
                    ip_address=audit.client_address(request),
                    previous_hash=head or AuditEntry.GENESIS,
                )
                entry.entry_hash = audit.chain_hash(entry.previous_hash, entry)
                entry.save()
                return entry
        except IntegrityError:
            if attempt == APPEND_ATTEMPTS - 1:
                raise
    return None


def record_by(actor, action, **fields):
    """record() naming the actor; actor None is the system, even when a request triggered the change."""
    if actor is None:
        with audit.as_system():
            return record(action, **fields)
    return record(action, actor=actor, **fields)
