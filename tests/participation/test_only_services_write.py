"""At run time, every write to a participation or accounts table made while serving a request comes
from participation/services/ (docs/architecture.md: the services are the only writers).

Django's SQL compilers for INSERT, UPDATE and DELETE are wrapped while one request is served through
the test client; each write to a watched table must have a frame of participation/services/ on its
stack. The static half (no module outside the services calls a write) is tests/test_architecture.py.

Not covered here, on purpose: the admin's change forms of drafts (questions, options, sections),
which are Django's own ModelForm writes (tests/test_architecture.py lists the one exception).
"""

import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models.sql import compiler
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from participation import notifications
from participation.models import (
    AuditEntry,
    Comment,
    Item,
    PageFeedback,
    PollBallot,
    ReferendumParticipation,
    SectionReaction,
    State,
)
from participation.services import consultation as consultation_service
from tests.builders.items import make_consultation, make_poll, make_referendum
from tests.factories import SuperUserFactory, UserFactory, VerifiedUserFactory

from .conftest import admin_url, url

pytestmark = pytest.mark.django_db

SERVICES = str(Path(__file__).resolve().parents[2] / "participation" / "services") + "/"
WATCHED_APPS = {"participation", "accounts"}
COMPILERS = (
    ("insert", compiler.SQLInsertCompiler),
    ("update", compiler.SQLUpdateCompiler),
    ("delete", compiler.SQLDeleteCompiler),
)


def _writer():
    """(the services' frame that caused this write or None, the nearest project frame) from the stack."""
    frame, nearest = sys._getframe(2), None
    root = SERVICES.rsplit("/participation/", 1)[0] + "/"
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(SERVICES):
            return f"{filename[len(root) :]}:{frame.f_code.co_name}", nearest
        if nearest is None and filename.startswith(root) and "/.venv/" not in filename and "/tests/" not in filename:
            nearest = f"{filename[len(root) :]}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return None, nearest


@contextmanager
def watched_writes(monkeypatch):
    """Collect (table, statement, services frame or None, nearest project frame) of every watched write."""
    writes = []

    def wrap(kind, original):
        def execute_sql(self, *args, **kwargs):
            meta = self.query.get_meta()
            if meta.app_label in WATCHED_APPS:
                writes.append((meta.db_table, kind, *_writer()))
            return original(self, *args, **kwargs)

        return execute_sql

    with monkeypatch.context() as patch:
        for kind, compiler_class in COMPILERS:
            patch.setattr(compiler_class, "execute_sql", wrap(kind, compiler_class.execute_sql))
        yield writes


def assert_only_services_wrote(writes, *tables):
    """Strict: something was written to each of `tables`, and every watched write came from the services."""
    assert writes, "the request wrote nothing: the check would be empty"
    written = {table for table, *_rest in writes}
    assert set(tables) <= written, f"expected writes to {tables}, saw {sorted(written)}"
    outside = [(table, kind, nearest) for table, kind, service, nearest in writes if service is None]
    assert outside == [], f"written outside participation/services/: {outside}"


def serve(client, monkeypatch, method, path, data=None):
    with watched_writes(monkeypatch) as writes:
        response = getattr(client, method)(path, data or {})
    assert response.status_code < 400, response.status_code
    return writes


# ---------------------------------------------------------------------------
# The detector itself
# ---------------------------------------------------------------------------


def test_a_write_outside_the_services_is_caught(db, monkeypatch):
    poll = make_poll()
    with watched_writes(monkeypatch) as writes:
        Item.objects.filter(pk=poll.pk).update(state=State.CLOSED)
    assert [(table, kind, service) for table, kind, service, _nearest in writes] == [
        ("participation_item", "update", None)
    ]
    with pytest.raises(AssertionError, match="outside participation/services/"):
        assert_only_services_wrote(writes)


# ---------------------------------------------------------------------------
# Citizens
# ---------------------------------------------------------------------------


def test_a_poll_vote(client, monkeypatch):
    poll = make_poll(questions=1, options=3)
    question = poll.questions.get()
    client.force_login(VerifiedUserFactory())
    writes = serve(
        client,
        monkeypatch,
        "post",
        url("en", "poll_detail", slug=poll.slug),
        {f"question-{question.pk}": [str(question.options.first().pk)]},
    )
    assert PollBallot.objects.filter(item=poll).count() == 1
    assert_only_services_wrote(writes, "participation_pollballot", "participation_pollanswer")


def test_a_referendum_vote(client, monkeypatch):
    referendum = make_referendum()
    client.force_login(VerifiedUserFactory())
    option = referendum.questions.get().options.first()
    writes = serve(
        client, monkeypatch, "post", url("en", "referendum_detail", slug=referendum.slug), {"choice": option.pk}
    )
    assert ReferendumParticipation.objects.filter(item=referendum).count() == 1
    assert_only_services_wrote(writes, "participation_referendumparticipation", "participation_sealedballot")


def test_a_comment_and_a_reaction(client, monkeypatch):
    consultation = make_consultation(sections=2)
    client.force_login(VerifiedUserFactory())
    writes = serve(
        client,
        monkeypatch,
        "post",
        url("en", "consultation_comment", slug=consultation.slug),
        {"body": "Clearer, please."},
    )
    assert_only_services_wrote(writes, "participation_comment")
    writes = serve(
        client,
        monkeypatch,
        "post",
        url("en", "consultation_react", slug=consultation.slug, number=1),
        {"agrees": "yes"},
    )
    assert SectionReaction.objects.count() == 1
    assert_only_services_wrote(writes, "participation_sectionreaction")


def test_an_unsubscribe(client, monkeypatch):
    person = UserFactory(notify_results=True)
    token = notifications.unsubscribe_token(person, notifications.RESULTS)
    writes = serve(client, monkeypatch, "post", f"/en/unsubscribe/{token}/")
    person.refresh_from_db()
    assert person.notify_results is False
    assert_only_services_wrote(writes, User._meta.db_table)


def test_a_feedback_answer_and_its_reason(client, monkeypatch):
    writes = serve(client, monkeypatch, "post", "/en/feedback/", {"path": "/en/about/", "answer": "no"})
    assert_only_services_wrote(writes, "participation_pagefeedback")
    writes = serve(
        client,
        monkeypatch,
        "post",
        "/en/feedback/reason/",
        {"path": "/en/about/", "reason": "unclear", "reason_text": ""},
    )
    assert PageFeedback.objects.get().reason == "unclear"
    assert_only_services_wrote(writes, "participation_pagefeedback")


# ---------------------------------------------------------------------------
# Staff, through the admin
# ---------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(SuperUserFactory())
    return client


def run_action(client, monkeypatch, model, action, objects, app="participation"):
    path = reverse(f"admin:{app}_{model}_changelist")
    return serve(client, monkeypatch, "post", path, {"action": action, "_selected_action": [o.pk for o in objects]})


def test_admin_schedules_and_closes(admin_client, monkeypatch):
    draft = make_poll(state=State.DRAFT)
    writes = run_action(admin_client, monkeypatch, "poll", "schedule", [draft])
    assert Item.objects.get(pk=draft.pk).state == State.SCHEDULED
    assert_only_services_wrote(writes, "participation_item", "participation_auditentry")
    writes = run_action(admin_client, monkeypatch, "poll", "close_now", [draft])
    assert Item.objects.get(pk=draft.pk).state == State.CLOSED
    assert_only_services_wrote(writes, "participation_item", "participation_auditentry", "participation_outboxmessage")


def test_admin_publishes_a_consultation_outcome(admin_client, monkeypatch):
    now = timezone.now()
    consultation = make_consultation(
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=1),
        outcome_heard_ar="سمعنا",
        outcome_heard_en="We heard",
        outcome_changed_ar="غيّرنا",
        outcome_changed_en="We changed",
    )
    writes = run_action(admin_client, monkeypatch, "consultation", "publish", [consultation])
    assert Item.objects.get(pk=consultation.pk).state == State.PUBLISHED
    assert_only_services_wrote(writes, "participation_item", "participation_auditentry")


def test_admin_moderates_comments(admin_client, monkeypatch):
    consultation = make_consultation(moderate_before_publishing=True)
    first = consultation_service.add_comment(VerifiedUserFactory(), consultation, "First")
    second = consultation_service.add_comment(VerifiedUserFactory(), consultation, "Second")
    writes = run_action(admin_client, monkeypatch, "comment", "approve", [first])
    assert_only_services_wrote(writes, "participation_comment", "participation_auditentry")
    writes = serve(
        admin_client,
        monkeypatch,
        "post",
        admin_url("comment_change", second.pk),
        {"status": Comment.Status.HIDDEN, "moderation_reason": "Off topic"},
    )
    assert Comment.objects.get(pk=second.pk).status == Comment.Status.HIDDEN
    assert_only_services_wrote(writes, "participation_comment", "participation_auditentry")


def test_admin_verifies_and_resets_identities(admin_client, monkeypatch):
    waiting = UserFactory()
    verified = VerifiedUserFactory()
    writes = run_action(admin_client, monkeypatch, "user", "verify_identity", [waiting], app="accounts")
    assert User.objects.get(pk=waiting.pk).is_verified
    assert_only_services_wrote(writes, User._meta.db_table, "accounts_verificationdecision", "participation_auditentry")
    writes = run_action(admin_client, monkeypatch, "user", "reset_identity_verification", [verified], app="accounts")
    assert not User.objects.get(pk=verified.pk).is_verified
    assert_only_services_wrote(writes, User._meta.db_table, "participation_auditentry")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CHANGE, object_id=str(verified.pk)).exists()
