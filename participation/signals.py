"""Feed the audit trail from Django's own records: admin log entries and staff log-ins.

Admin log entries reach the trail through post_save on LogEntry, and, for the admin's bulk "delete
selected" (which sends no post_save), through AuditedDeletionsMixin. Entries are appended by
services/trail.py.
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import AuditEntry, Entity, Item
from .services import trail

ADMIN_ACTIONS = {ADDITION: AuditEntry.Action.CREATE, CHANGE: AuditEntry.Action.CHANGE, DELETION: AuditEntry.Action.DELETE}


def _entity_for(log_entry):
    """The entity an admin change concerns, when the object still exists and has one."""
    try:
        obj = log_entry.get_edited_object()
    except Exception:  # deleted, or a model without an entity: no entity to file it under
        return None
    if isinstance(obj, Entity):
        return obj
    if isinstance(obj, Item):
        return obj.entity
    item = getattr(obj, "item", None)
    return getattr(item, "entity", None)


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log_entry")
def audit_admin_change(sender, instance, created, **kwargs):
    if not created:
        return
    model = instance.content_type.model_class() if instance.content_type_id else None
    trail.record(
        ADMIN_ACTIONS.get(instance.action_flag, AuditEntry.Action.CHANGE),
        actor=instance.user,
        entity=_entity_for(instance) if instance.action_flag != DELETION else None,
        object_repr=instance.object_repr,
        details={
            "model": model._meta.label_lower if model else "",
            "object_id": instance.object_id,
            "changes": instance.get_change_message(),
            "change_message": instance.change_message,
        },
    )


@receiver(user_logged_in, dispatch_uid="audit_staff_login")
def audit_staff_login(sender, request, user, **kwargs):
    if user.is_staff:
        trail.record(AuditEntry.Action.LOGIN, actor=user, request=request, object_repr=user.email)


class AuditedDeletionsMixin:
    """Admin "delete selected" logs several objects with one bulk insert, which sends no post_save:
    put each of those log entries on the trail too.

    Django runs that action outside a transaction, logging first and deleting second: here the
    deletions and their audit entries commit together, so a refused deletion leaves no entry behind.
    """

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, description = actions["delete_selected"]
            actions["delete_selected"] = (transaction.atomic(func), name, description)
        return actions

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        if len(entries) > 1:
            for entry in entries:
                audit_admin_change(sender=type(entry), instance=entry, created=True)
        return entries
