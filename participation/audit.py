"""The tamper-evident audit trail: who did what, to which object, when, from where.

Each entry's hash covers its fields and the previous entry's hash, so changing
or removing any entry breaks the chain from there on (verify_audit_log finds
where). A unique constraint on previous_hash makes a fork impossible: two
writers that read the same head cannot both append.
"""

import contextlib
import contextvars
import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.ipv6 import clean_ipv6_address

from .models import AuditEntry

_request = contextvars.ContextVar("audit_request", default=None)
_system = contextvars.ContextVar("audit_as_system", default=False)
APPEND_ATTEMPTS = 5


def client_address(request):
    """The client's address as the first trusted proxy saw it (REMOTE_ADDR behind our own proxy).

    IPv6 is written in its canonical form, as the database stores it, so that the hash still matches.
    """
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    if address and ":" in address:
        try:
            address = clean_ipv6_address(address)
        except ValidationError:
            return None
    return address


@contextlib.contextmanager
def as_system():
    """Record what happens inside as done by the system, not by whoever's request triggered it.

    A results page or an export may tally a closed item on the way; the item was
    closed and published by the clock, not by that visitor or auditor.
    """
    token = _system.set(True)
    try:
        yield
    finally:
        _system.reset(token)


class AuditRequestMiddleware:
    """Remembers the current request so that audit entries know the actor's address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def canonical(entry):
    """The bytes an entry's hash covers (docs/audit.md)."""
    fields = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "entity_id": entry.entity_id,
        "details": entry.details,
        "ip_address": entry.ip_address,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def chain_hash(previous_hash, entry):
    return hashlib.sha256(f"{previous_hash}\n{canonical(entry)}".encode()).hexdigest()


def record(action, *, actor=None, obj=None, entity=None, details=None, request=None, object_repr=None):
    """Append one entry to the trail and return it.

    Runs in its own savepoint; a concurrent append that took the same head
    makes the unique previous_hash refuse ours, and we retry on the new head.
    """
    if _system.get():
        actor, request = None, None
    request = request or (None if _system.get() else _request.get())
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
                    ip_address=client_address(request),
                    previous_hash=head or AuditEntry.GENESIS,
                )
                entry.entry_hash = chain_hash(entry.previous_hash, entry)
                entry.save()
                return entry
        except IntegrityError:
            if attempt == APPEND_ATTEMPTS - 1:
                raise
    return None


def verify_chain(entries):
    """Walk entries in append order; return (checked, first_broken_entry_or_None, reason)."""
    previous = AuditEntry.GENESIS
    checked = 0
    for entry in entries:
        if entry.previous_hash != previous:
            return checked, entry, "previous_hash does not match the entry before it (an entry was removed or reordered)"
        if chain_hash(previous, entry) != entry.entry_hash:
            return checked, entry, "entry_hash does not match its contents (the entry was changed)"
        previous = entry.entry_hash
        checked += 1
    return checked, None, ""


class AuditedDeletionsMixin:
    """Admin "delete selected" logs several objects with one bulk insert, which sends no post_save:
    put each of those log entries on the trail too."""

    def log_deletions(self, request, queryset):
        from .signals import audit_admin_change

        entries = super().log_deletions(request, queryset)
        if len(entries) > 1:
            for entry in entries:
                audit_admin_change(sender=type(entry), instance=entry, created=True)
        return entries
