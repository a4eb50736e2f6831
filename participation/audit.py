"""The tamper-evident audit trail: who did what, to which object, when, from where.

This module defines and checks the trail; entries are appended by services/trail.py, its one writer.

Each entry's hash is an HMAC-SHA256, under a key that lives in the environment
(settings.AUDIT_HMAC_KEY), of its fields and the previous entry's hash. Changing
or removing any entry breaks the chain from there on (verify_audit_log finds
where), and someone with database access only cannot compute a consistent
replacement. A unique constraint on previous_hash makes a fork impossible: two
writers that read the same head cannot both append.

What the key cannot show is a tail cut off cleanly. Checkpoints close that gap:
the chain length and head hash (checkpoint()) are published where outsiders
keep them, and verify_audit_log --checkpoint COUNT:HASH proves the trail still
holds that entry at that position (docs/audit.md).
"""

import contextlib
import contextvars
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from .models import AuditEntry

_request = contextvars.ContextVar("audit_request", default=None)
_system = contextvars.ContextVar("audit_as_system", default=False)


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


def acting_as_system():
    """True inside as_system(): entries name no person and no address."""
    return _system.get()


def current_request():
    """The request being served (AuditRequestMiddleware), or None in a worker or a command."""
    return _request.get()


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


def chain_hash(previous_hash, entry, key=None):
    """HMAC-SHA256(key = the audit key, message = previous_hash + "\n" + canonical JSON), in hex."""
    message = f"{previous_hash}\n{canonical(entry)}".encode()
    return hmac.new(key or settings.AUDIT_HMAC_KEY, message, hashlib.sha256).hexdigest()


def verify_chain(entries, on_entry=None):
    """Walk entries in append order; return (checked, first_broken_entry_or_None, reason).

    Every link and every HMAC is checked. on_entry(position, entry), if given, sees each
    entry that verified (positions start at 1), so that checkpoints can be compared on the way.
    """
    previous = AuditEntry.GENESIS
    checked = 0
    for entry in entries:
        if entry.previous_hash != previous:
            return checked, entry, "previous_hash does not match the entry before it (an entry was removed or reordered)"
        if not hmac.compare_digest(chain_hash(previous, entry), entry.entry_hash):
            return (
                checked,
                entry,
                "entry_hash does not match its contents under this portal's audit key "
                "(the entry was changed, or the hash was computed without the key)",
            )
        previous = entry.entry_hash
        checked += 1
        if on_entry is not None:
            on_entry(checked, entry)
    return checked, None, ""


# ---------------------------------------------------------------------------
# Checkpoints: the chain length and head hash, kept by outsiders
# ---------------------------------------------------------------------------

CHECKPOINT_RE = re.compile(r"^(?P<count>[0-9]+):(?P<hash>[0-9a-f]{64})$")


@dataclass(frozen=True)
class Checkpoint:
    """The trail had `count` entries and the last one's entry_hash was `head` (GENESIS when empty)."""

    count: int
    head: str
    taken_at: object = None

    def __str__(self):
        return f"{self.count}:{self.head}"

    @classmethod
    def parse(cls, text):
        """A checkpoint written as COUNT:HASH (hash in lower-case hex); ValueError otherwise."""
        match = CHECKPOINT_RE.match((text or "").strip().lower())
        if not match:
            raise ValueError(f"{text!r} is not a checkpoint: write it as COUNT:HASH, e.g. 42:{'0' * 8}… (64 hex digits).")
        return cls(int(match["count"]), match["hash"])


def checkpoint():
    """The trail's current length and head hash, read in one statement.

    One statement sees one snapshot, so the count and the head always belong together
    even while other transactions append. Only committed entries are counted.
    """
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), (SELECT entry_hash FROM {table} ORDER BY id DESC LIMIT 1) FROM {table}"  # noqa: S608
        )
        count, head = cursor.fetchone()
    return Checkpoint(count, head or AuditEntry.GENESIS, timezone.now())


PUBLISHED_CHECKPOINT_CACHE_KEY = "audit:checkpoint"
PUBLISHED_CHECKPOINT_SECONDS = 30


def published_checkpoint():
    """checkpoint() for the public pages (results, the checkpoint page), computed at most every 30 seconds.

    Every checkpoint the trail ever passed through stays valid, so a slightly older one is as good to
    keep; the cache spares a busy results page a COUNT over the whole trail on every view.
    """
    return cache.get_or_set(PUBLISHED_CHECKPOINT_CACHE_KEY, checkpoint, PUBLISHED_CHECKPOINT_SECONDS)


def checkpoint_comment_lines(point):
    """The checkpoint as comment lines for a .sha256 companion file: `sha256sum -c` skips lines that begin with #."""
    return [
        f"# audit-checkpoint: {point}",
        f"# taken-at: {point.taken_at.isoformat() if point.taken_at else ''}",
        f"# verify: python manage.py verify_audit_log --checkpoint {point}",
    ]
