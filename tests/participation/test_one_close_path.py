"""One close path: beat's close, the tally of a due item and an admin's "close now" all close through
lifecycle.close_item, so the close reads the same on the trail and owes the same tally.

Checked by behaviour, patching nothing: the rows each way leaves behind are compared.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from participation import errors
from participation.models import AuditEntry, Item, OutboxMessage, State
from participation.services import counting, lifecycle
from tests.builders.items import make_poll
from tests.builders.users import MINISTRY_ADMINS, MINISTRY_STAFF, make_staff
from tests.factories import EntityFactory

pytestmark = pytest.mark.django_db

OPENS = timezone.now().replace(microsecond=0) - timedelta(days=1)
CLOSES = OPENS + timedelta(days=2)
AFTER = CLOSES + timedelta(minutes=5)


def open_poll(entity=None):
    """A poll opened by the clock and recorded open by beat, as in production."""
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES, entity=entity or EntityFactory())
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        lifecycle.open_due_items()
    poll.refresh_from_db()
    assert poll.state == State.OPEN
    return poll


def what_the_close_left(item):
    """The close's trail entries (what does not differ from item to item), the owed work, the closing time."""
    entries = [
        {
            "actor_label": entry.actor_label,
            "object_type": entry.object_type,
            "entity": entry.entity_id,
            "details": entry.details,
            "ip_address": entry.ip_address,
        }
        for entry in AuditEntry.objects.filter(
            action=AuditEntry.Action.STATE, object_id=str(item.pk), details__to=State.CLOSED
        ).order_by("pk")
    ]
    owed = OutboxMessage.objects.filter(item=item).exclude(kind=OutboxMessage.Kind.OPENED)  # opening owed that one
    owed = list(owed.values_list("kind", flat=True).order_by("kind"))
    item.refresh_from_db()
    return {"entries": entries, "owed": owed, "closes_at": item.closes_at}


def close_by_beat(item):
    with time_machine.travel(AFTER, tick=False):
        assert lifecycle.close_due_items() == [item.pk]


def close_by_tally(item):
    with time_machine.travel(AFTER, tick=False):
        result = counting.tally(item.pk)
    assert result.item_id == item.pk


def test_a_due_item_closed_by_the_tally_leaves_what_beat_s_close_leaves():
    """The tally of an item whose time has passed but is still "open" writes the close beat would have."""
    entity = EntityFactory()
    by_beat, by_tally = open_poll(entity), open_poll(entity)
    close_by_tally(by_tally)  # first: beat would close both
    close_by_beat(by_beat)
    beat, tally = what_the_close_left(by_beat), what_the_close_left(by_tally)

    assert [entry["actor_label"] for entry in beat["entries"]] == ["system"]
    assert beat["entries"][0]["details"] == {"from": State.OPEN, "to": State.CLOSED}
    assert beat["owed"] == [OutboxMessage.Kind.TALLY]
    assert tally == beat
    assert beat["closes_at"] == CLOSES


def test_the_tally_closes_before_it_counts_on_the_trail():
    poll = open_poll()
    close_by_tally(poll)
    actions = list(
        AuditEntry.objects.filter(object_id=str(poll.pk), action__in=[AuditEntry.Action.STATE, AuditEntry.Action.TALLY])
        .order_by("pk")
        .values_list("action", "details__to")
    )
    assert actions[-2:] == [(AuditEntry.Action.STATE, State.CLOSED), (AuditEntry.Action.TALLY, None)]


def test_an_admin_s_close_now_is_the_same_close_naming_the_admin():
    entity = EntityFactory()
    by_beat = open_poll(entity)
    close_by_beat(by_beat)
    beat = what_the_close_left(by_beat)

    by_admin = open_poll(entity)
    admin = make_staff(MINISTRY_ADMINS, by_admin.entity)
    moment = CLOSES - timedelta(hours=1)
    with time_machine.travel(moment, tick=False):
        lifecycle.close_item_now(admin, by_admin)
    closed = what_the_close_left(by_admin)

    [entry] = closed["entries"]
    assert entry["actor_label"] == admin.email
    assert entry["details"] == beat["entries"][0]["details"]
    assert closed["owed"] == beat["owed"]
    assert closed["closes_at"] == moment  # closed early: the closing time is the moment of the close


def test_closing_twice_writes_one_close():
    poll = open_poll()
    close_by_beat(poll)
    with time_machine.travel(AFTER, tick=False):
        assert lifecycle.close_item(poll.pk) is False
        counting.tally(poll.pk)
    assert len(what_the_close_left(poll)["entries"]) == 1


# ---------------------------------------------------------------------------
# Staff writes name their actor and ask permissions.py first
# ---------------------------------------------------------------------------


def test_staff_without_the_role_or_of_another_ministry_cannot_close_and_nothing_is_written():
    poll = open_poll()
    refused = [make_staff(MINISTRY_STAFF, poll.entity), make_staff(MINISTRY_ADMINS, EntityFactory())]
    for person in refused:
        with time_machine.travel(CLOSES - timedelta(hours=1), tick=False), pytest.raises(errors.NotPermitted):
            lifecycle.close_item_now(person, poll)
    assert Item.objects.get(pk=poll.pk).state == State.OPEN
    assert what_the_close_left(poll) == {"entries": [], "owed": [], "closes_at": CLOSES}


def test_scheduling_names_the_actor_and_asks_for_the_role():
    draft = make_poll(state=State.DRAFT)
    with pytest.raises(errors.NotPermitted):
        lifecycle.schedule_item(make_staff(MINISTRY_STAFF, draft.entity), draft)
    assert Item.objects.get(pk=draft.pk).state == State.DRAFT
    admin = make_staff(MINISTRY_ADMINS, draft.entity)
    lifecycle.schedule_item(admin, draft)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.STATE, object_id=str(draft.pk))
    assert (entry.actor_id, entry.details) == (admin.pk, {"from": State.DRAFT, "to": State.SCHEDULED})
