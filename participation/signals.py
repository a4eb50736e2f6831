"""Feed the audit trail from Django's own records: admin log entries and staff log-ins."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import audit
from .models import AuditEntry, Entity, Item

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
    audit.record(
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
        audit.record(AuditEntry.Action.LOGIN, actor=user, request=request, object_repr=user.email)
