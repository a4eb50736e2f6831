"""E-mail notifications: language, unsubscribe links that work without logging in, batches, sending once."""

import re
import threading

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Segment
from participation import notifications, tasks
from participation.models import Notification, State
from participation.services import notifications as notification_service
from tests.answers import UNSUBSCRIBE_RE, unsubscribe_path
from tests.builders.items import close, make_poll, question_and_options, set_state, vote
from tests.builders.users import people, person

pytestmark = pytest.mark.django_db

OTHER = {"ar": "en", "en": "ar"}
FLAG = {notifications.OPENED: "notify_new_items", notifications.RESULTS: "notify_results"}


def expected(lang, msgid, **values):
    """A fixed sentence as the portal says it in `lang` (Arabic once the catalogue is compiled)."""
    with translation.override(lang):
        return gettext(msgid) % values if values else gettext(msgid)


def only_mail(mailoutbox):
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    return mailoutbox[0]


# ---------------------------------------------------------------------------
# The e-mail: in the person's language, with an unsubscribe link
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_opened_e_mail_is_in_the_preferred_language_whatever_language_is_active(lang, mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    user = person(preferred_language=lang, notify_new_items=True)
    with translation.override(OTHER[lang]):
        sent = notification_service.send_batch(poll.pk, notifications.OPENED, [user.pk])
    assert sent == 1
    message = only_mail(mailoutbox)
    title = getattr(poll, f"title_{lang}")
    assert message.to == [user.email]
    assert message.subject == expected(lang, "Now open: %(title)s", title=title)
    assert title in message.subject
    assert getattr(poll, f"title_{OTHER[lang]}") not in message.subject
    if lang == "ar":
        assert any("\u0600" <= char <= "\u06ff" for char in message.subject)  # an Arabic subject
    assert message.extra_headers["Content-Language"] == lang
    assert f"/{lang}/polls/{poll.slug}/" in message.body
    assert getattr(poll, f"summary_{lang}") in message.body
    link = UNSUBSCRIBE_RE.search(message.body)
    assert link and link.group(1) == lang
    assert message.extra_headers["List-Unsubscribe"] == f"<{link.group(0)}>"


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_results_e_mail_links_to_the_results_page_in_the_preferred_language(lang, mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    voter = person(preferred_language=lang)
    vote(voter, poll, [option])
    close(poll)
    assert notification_service.send_batch(poll.pk, notifications.RESULTS, [voter.pk]) == 1
    message = only_mail(mailoutbox)
    assert message.subject == expected(lang, "Results published: %(title)s", title=getattr(poll, f"title_{lang}"))
    assert f"/{lang}/polls/{poll.slug}/results/" in message.body
    assert f"/{lang}/unsubscribe/" in message.body


def test_plain_text_e_mail_is_not_html_escaped(mailoutbox):
    poll = make_poll(state=State.DRAFT, options=2)
    type(poll).objects.filter(pk=poll.pk).update(
        title_en='Parks & "green" streets', summary_en="Tell us what you'd change <first>."
    )
    set_state(poll, State.OPEN)  # the text first: the database freezes it once the poll has opened
    user = person(preferred_language="en", full_name="Sara O'Neil", notify_new_items=True)
    notification_service.send_batch(poll.pk, notifications.OPENED, [user.pk])
    message = only_mail(mailoutbox)
    assert message.subject == 'Now open: Parks & "green" streets'
    assert "Sara O'Neil" in message.body
    assert 'Parks & "green" streets' in message.body
    assert "Tell us what you'd change <first>." in message.body
    assert "&amp;" not in message.body and "&#x27;" not in message.body and "&quot;" not in message.body


# ---------------------------------------------------------------------------
# Unsubscribing without logging in: GET asks, POST does it
# ---------------------------------------------------------------------------


def _link_for(user, kind, item, mailoutbox):
    notification_service.send_batch(item.pk, kind, [user.pk])
    return unsubscribe_path(only_mail(mailoutbox).body)


@pytest.mark.parametrize("kind", [notifications.OPENED, notifications.RESULTS])
def test_get_on_the_link_asks_first_and_changes_nothing(client, lang, kind, mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    user = person(preferred_language=lang, notify_new_items=True, notify_results=True)
    if kind == notifications.RESULTS:
        vote(user, poll, [option])
    path = _link_for(user, kind, poll, mailoutbox)
    assert path.startswith(f"/{lang}/unsubscribe/")

    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    assert 'method="post"' in html
    assert expected(lang, "Stop these e-mails") in html
    user.refresh_from_db()
    assert user.notify_new_items is True
    assert user.notify_results is True


@pytest.mark.parametrize("kind", [notifications.OPENED, notifications.RESULTS])
def test_post_on_the_link_unsubscribes_from_that_kind_only(client, lang, kind, mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    user = person(preferred_language=lang, notify_new_items=True, notify_results=True)
    if kind == notifications.RESULTS:
        vote(user, poll, [option])
    path = _link_for(user, kind, poll, mailoutbox)
    client.get(path)  # as a person would: read the question, then confirm

    response = client.post(path)

    assert response.status_code == 200
    assert expected(
        lang, "Done: you will not receive these e-mails any more. You can turn them back on in your profile."
    ) in (response.content.decode())
    user.refresh_from_db()
    assert getattr(user, FLAG[kind]) is False
    other_kind = next(k for k in FLAG if k != kind)
    assert getattr(user, FLAG[other_kind]) is True
    assert "_auth_user_id" not in client.session  # nobody was logged in


def test_the_confirm_form_carries_its_csrf_token_for_people_not_logged_in(lang, mailoutbox):
    client = Client(enforce_csrf_checks=True)
    poll = make_poll(options=2, state=State.OPEN)
    user = person(preferred_language=lang, notify_new_items=True)
    path = _link_for(user, notifications.OPENED, poll, mailoutbox)

    html = client.get(path).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert csrf, "the confirm form has no CSRF token"
    assert client.post(path).status_code == 403  # a forged POST from elsewhere does nothing
    user.refresh_from_db()
    assert user.notify_new_items is True

    response = client.post(path, {"csrfmiddlewaretoken": csrf.group(1)})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.notify_new_items is False


def test_an_unsubscribed_person_gets_no_more_e_mail_of_that_kind(client, lang, mailoutbox):
    first = make_poll(options=2, state=State.OPEN)
    second = make_poll(options=2, state=State.OPEN)
    user = person(preferred_language=lang, notify_new_items=True)
    assert client.post(_link_for(user, notifications.OPENED, first, mailoutbox)).status_code == 200
    mail.outbox.clear()
    tasks.notify_item_opened.delay(second.pk)
    assert notification_service.send_batch(second.pk, notifications.OPENED, [user.pk]) == 0
    assert mailoutbox == []


def _tampered(token):
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_refused_with_a_message(client, lang, method):
    user = person(notify_new_items=True, notify_results=True)
    token = notifications.unsubscribe_token(user, notifications.RESULTS)

    response = getattr(client, method)(f"/{lang}/unsubscribe/{_tampered(token)}/")

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html
    assert expected(lang, "This link does not work") in html
    assert (
        expected(
            lang,
            "The unsubscribe link is not valid. Copy the whole link from the e-mail, "
            "or change your e-mail settings in your profile.",
        )
        in html
    )
    user.refresh_from_db()
    assert user.notify_results is True
    assert user.notify_new_items is True


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: signing.dumps({"u": user.pk, "k": "results"}), id="another-salt"),
        pytest.param(
            lambda user: signing.dumps({"u": user.pk, "k": "everything"}, salt=notifications.UNSUBSCRIBE_SALT),
            id="unknown-kind",
        ),
        pytest.param(
            lambda user: signing.dumps({"u": user.pk + 1000, "k": "results"}, salt=notifications.UNSUBSCRIBE_SALT),
            id="unknown-user",
        ),
    ],
)
def test_other_invalid_tokens_are_refused(client, lang, make_token):
    user = person()
    response = client.post(f"/{lang}/unsubscribe/{make_token(user)}/")
    assert response.status_code == 400
    assert expected(lang, "This link does not work") in response.content.decode()
    user.refresh_from_db()
    assert user.notify_results is True


def test_a_token_of_a_deactivated_account_is_refused(client, lang):
    user = person()
    token = notifications.unsubscribe_token(user, notifications.RESULTS)
    assert client.get(f"/{lang}/unsubscribe/{token}/").status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(f"/{lang}/unsubscribe/{token}/").status_code == 400


# ---------------------------------------------------------------------------
# Batches, and each person at most once
# ---------------------------------------------------------------------------


def test_batches_split_ids_in_order():
    assert list(notifications.batches(iter(range(1, 6)), size=2)) == [[1, 2], [3, 4], [5]]
    assert list(notifications.batches(iter([]), size=2)) == []


def test_notifications_go_out_in_batches_of_batch_size(monkeypatch, mailoutbox):
    monkeypatch.setattr(notifications, "BATCH_SIZE", 2)
    real_send_batch = notification_service.send_batch
    calls = []

    def spy(item_id, kind, user_ids):
        calls.append(list(user_ids))
        return real_send_batch(item_id, kind, user_ids)

    monkeypatch.setattr(notification_service, "send_batch", spy)
    poll = make_poll(options=2, state=State.OPEN)
    users = people(5, notify_new_items=True)

    tasks.notify_item_opened.delay(poll.pk)

    ids = sorted(u.pk for u in users)
    assert calls == [ids[0:2], ids[2:4], ids[4:5]]
    assert len(mailoutbox) == 5


def test_opened_e_mail_goes_to_the_audience_only(mailoutbox):
    poll = make_poll(for_citizens=False, for_residents=True, for_visitors=False, options=2, state=State.OPEN)
    resident = person(Segment.RESIDENT, notify_new_items=True)
    person(Segment.CITIZEN, notify_new_items=True)
    person(Segment.VISITOR, notify_new_items=True)
    tasks.notify_item_opened.delay(poll.pk)
    assert [m.to for m in mailoutbox] == [[resident.email]]


def test_a_person_who_opted_out_after_the_batch_was_queued_is_skipped(mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    stays, leaves = people(2, notify_new_items=True)
    type(leaves).objects.filter(pk=leaves.pk).update(notify_new_items=False)
    assert notification_service.send_batch(poll.pk, notifications.OPENED, [stays.pk, leaves.pk]) == 1
    assert [m.to for m in mailoutbox] == [[stays.email]]


def test_a_failed_sending_is_not_recorded_so_that_the_retry_sends(monkeypatch, mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    user = person(notify_new_items=True)

    class Down:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_messages(self, messages):
            raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(notification_service, "get_connection", lambda: Down())
    with pytest.raises(ConnectionRefusedError):
        notification_service.send_batch(poll.pk, notifications.OPENED, [user.pk])
    assert not Notification.objects.filter(item=poll).exists()

    monkeypatch.undo()
    assert notification_service.send_batch(poll.pk, notifications.OPENED, [user.pk]) == 1
    assert len(mailoutbox) == 1


def test_results_e_mail_reaches_a_participant_notified_before_about_other_things(mailoutbox):
    """Earlier e-mails about *other* items or of *another* kind must not count as "already notified"."""
    earlier = make_poll(options=2, state=State.OPEN)
    _q, (earlier_option, _other) = question_and_options(earlier)
    later = make_poll(options=2, state=State.OPEN)
    _q, (later_option, _other) = question_and_options(later)
    user = person(notify_new_items=True, notify_results=True)
    # The person took part in an earlier poll and got its results ...
    vote(user, earlier, [earlier_option])
    close(earlier)
    tasks.notify_results.delay(earlier.pk)
    # ... then heard that a later poll opened, and took part in it too.
    tasks.notify_item_opened.delay(later.pk)
    vote(user, later, [later_option])
    close(later)
    mail.outbox.clear()

    tasks.notify_results.delay(later.pk)

    assert [m.to for m in mailoutbox] == [[user.email]]
    assert Notification.objects.filter(item=later, user=user, kind=notifications.RESULTS).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_batch_at_once_send_each_e_mail_once(monkeypatch, mailoutbox):
    """Two workers that picked up the same batch (a redelivery after acks_late) must not mail twice."""
    poll = make_poll(options=2, state=State.OPEN)
    users = people(3, notify_new_items=True)
    ids = [u.pk for u in users]
    barrier = threading.Barrier(2, timeout=20)
    real_atomic = notification_service.transaction.atomic

    waited = threading.local()

    class SyncedTransaction:
        """Both copies have read who still needs the e-mail before either writes (first transaction only)."""

        @staticmethod
        def atomic(*args, **kwargs):
            if not getattr(waited, "done", False):
                waited.done = True
                barrier.wait()
            return real_atomic(*args, **kwargs)

    monkeypatch.setattr(notification_service, "transaction", SyncedTransaction)
    sent, errors = [], []

    def copy():
        try:
            sent.append(notification_service.send_batch(poll.pk, notifications.OPENED, ids))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=copy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert Notification.objects.filter(item=poll).count() == 3
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in users)
    assert sorted(sent) == [0, 3]
