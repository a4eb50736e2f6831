"""E-mail to people: an item opened for them, or results they took part in were published.

Each e-mail is in the person's preferred language and carries an unsubscribe
link that works without logging in (a signed token). A Notification row per
person and item makes sending idempotent. That a mailing is owed at all is
recorded in the outbox (services/outbox.py) by the change that causes it. Who to write to and what
is read here; the writes (a Notification claimed per e-mail sent, an unsubscribe) are the services'
(services/notifications.py).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import Item, Kind, Notification
from .tally import eligible_users

OPENED = Notification.Kind.OPENED.value
RESULTS = Notification.Kind.RESULTS.value
BATCH_SIZE = 200
UNSUBSCRIBE_SALT = "participation.unsubscribe"
UNSUBSCRIBE_FIELDS = {OPENED: "notify_new_items", RESULTS: "notify_results"}


def batches(ids, size=None):
    size = size or BATCH_SIZE
    batch = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def already_notified(item, kind):
    """People with a Notification for this very item and kind (one row, both conditions)."""
    return Exists(Notification.objects.filter(user=OuterRef("pk"), item=item, kind=kind))


def _opened_people(item):
    users = eligible_users(item).filter(notify_new_items=True)
    return users.exclude(already_notified(item, OPENED))


def _results_people(item):
    if item.kind == Kind.POLL:
        voters = item.poll_ballots.values("voter_id")
    else:
        voters = item.referendum_participations.values("voter_id")
    users = get_user_model().objects.filter(pk__in=voters, is_active=True, notify_results=True)
    return users.exclude(already_notified(item, RESULTS))


def _people_left(item_id, kind):
    """Everybody the mailing is still owed to: in its audience, opted in, and not yet notified."""
    item = Item.objects.get(pk=item_id)
    return _opened_people(item) if kind == OPENED else _results_people(item)


def recipients(item_id, kind):
    """Ids of the people still owed this mailing, in order, streamed."""
    return _people_left(item_id, kind).order_by("pk").values_list("pk", flat=True).iterator(chunk_size=BATCH_SIZE)


def nobody_left(item_id, kind):
    """True once everybody owed this mailing has been notified (or opted out): the outbox message is done."""
    return not _people_left(item_id, kind).exists()


def unsubscribe_token(user, kind):
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token):
    """Return (user, kind) from a token, or raise signing.BadSignature."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if data.get("k") not in UNSUBSCRIBE_FIELDS:
        raise signing.BadSignature("unknown kind")
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None:
        raise signing.BadSignature("unknown user")
    return user, data["k"]


def _absolute(path):
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def message(item, user, kind):
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        url = item.get_results_url() if kind == RESULTS else item.get_absolute_url()
        context = {
            "user": user,
            "item": item,
            "url": _absolute(url),
            "unsubscribe_url": _absolute(reverse("participation:unsubscribe", args=[unsubscribe_token(user, kind)])),
        }
        subject = render_to_string(f"participation/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"participation/email/{kind}.txt", context)
    message = EmailMultiAlternatives(subject, body, to=[user.email])
    message.extra_headers = {
        "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
        "Content-Language": language,
    }
    return message
