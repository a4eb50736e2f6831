"""E-mail's writes: a Notification claimed for each e-mail sent, and unsubscribing.

participation/notifications.py says who is owed an e-mail and renders it; this module writes.
"""

from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import IntegrityError, transaction

from .. import notifications as mail
from ..models import Item, Notification


def send_batch(item_id, kind, user_ids):
    """Send one batch; people already notified about this item are skipped. Returns the number sent."""
    item = Item.objects.select_related("entity").get(pk=item_id)
    field = mail.UNSUBSCRIBE_FIELDS[kind]
    users = list(
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True, **{field: True})
        .exclude(mail.already_notified(item, kind))
    )
    if not users:
        return 0
    with transaction.atomic():
        # Rows first, inside the transaction: if sending fails they roll back and a retry sends again.
        # A copy of this batch running at the same time waits on the unique key, then finds the rows
        # taken, so each person is e-mailed by exactly one copy.
        claimed = [user for user in users if _claim(item, user, kind)]
        if claimed:
            with get_connection() as connection:
                connection.send_messages([mail.message(item, user, kind) for user in claimed])
    return len(claimed)


def _claim(item, user, kind):
    try:
        with transaction.atomic():
            Notification.objects.create(item=item, user=user, kind=kind)
    except IntegrityError:
        return False
    return True


def unsubscribe(user, kind):
    """Stop one kind of e-mail ("opened" or "results") for the person: the link in every e-mail, no login needed."""
    field = mail.UNSUBSCRIBE_FIELDS[kind]
    setattr(user, field, False)
    user.save(update_fields=[field])
    return user
