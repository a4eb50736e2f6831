"""Builders and helpers for the auditors' tests: exports, their permissions, verify_export and the audit trail.

The small fixtures here are built at fixed moments in Qatar time (time_machine, clock stopped), so
every byte of their CSV exports is known in advance: closing times, tallies and comments all lie in
March 2026, well before the tests run, so the items are closed by the clock whatever today is.
"""

import csv
import io
from contextlib import nullcontext
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from accounts.models import Segment, User
from participation.models import (
    AuditEntry,
    Consultation,
    Entity,
    Option,
    Poll,
    Question,
    Referendum,
    ReferendumBallot,
    Section,
    State,
)
from participation.services import consultation as consultation_service
from participation.services import counting, moderation, voting
from tests.audit_guards import guard_statements
from tests.factories import StaffUserFactory, SuperUserFactory, UserFactory, VerifiedUserFactory

from .factories import AUDITORS, MINISTRY_ADMINS, MINISTRY_STAFF, MODERATORS

QATAR = ZoneInfo("Asia/Qatar")
BOM = "\ufeff"
CRLF = "\r\n"

OPENS = datetime(2026, 3, 1, 8, 0, tzinfo=QATAR)
VOTE_DAY = datetime(2026, 3, 10, 9, 30, tzinfo=QATAR)
# 01:30 in Doha is still the previous day in UTC: the export must show the Qatar date.
EARLY_HOURS = datetime(2026, 3, 11, 1, 30, tzinfo=QATAR)
CLOSES = datetime(2026, 3, 15, 8, 0, tzinfo=QATAR)
MODERATED = datetime(2026, 3, 12, 10, 0, tzinfo=QATAR)
TALLIED = datetime(2026, 3, 20, 12, 0, tzinfo=QATAR)

HYPERLINK = '=HYPERLINK("x")'
HYPERLINK_CELL = '"\'=HYPERLINK(""x"")"'  # what the CSV must hold: quoted, apostrophe, quotes doubled
EXPORT_MESSAGE_NOT_CLOSED = (
    "This item has not closed yet, so it cannot be exported. Exports are available once it has closed."
)
EXPORT_MESSAGE_UNKNOWN = "This export does not exist for this kind of item."

ANONYMOUS = "anonymous"
CITIZEN = "citizen"
SUPERUSER = "superuser"
ROLES = (ANONYMOUS, CITIZEN, MINISTRY_STAFF, MINISTRY_ADMINS, MODERATORS, AUDITORS, SUPERUSER)
MAY_EXPORT = {AUDITORS, SUPERUSER}


def at(moment):
    """Stop the clock at `moment` (a context manager)."""
    return time_machine.travel(moment, tick=False)


# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------


def export_url(lang, item, name):
    return f"/{lang}/audit/{item.kind}/{item.slug}/{name}.csv"


def sha256_url(lang, item, name):
    return f"{export_url(lang, item, name)}.sha256"


def trail_url(lang):
    return f"/{lang}/audit/trail.csv"


def index_url(lang):
    return f"/{lang}/audit/"


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------


def staff_member(group_name, *entities, **fields):
    """Staff in one of the four groups (member of `entities`)."""
    user = StaffUserFactory(**fields)
    user.groups.add(Group.objects.get(name=group_name))
    for entity in entities:
        entity.members.add(user)
    return user


def auditor(email="auditor@audit.example.qa", **fields):
    """The auditor (the same person however often asked for): member of no entity."""
    return User.objects.filter(email=email).first() or staff_member(AUDITORS, email=email, **fields)


def user_for_role(role, *entities):
    """The person of one row of the permission matrix (None for anonymous). Staff belong to `entities`."""
    if role == ANONYMOUS:
        return None
    if role == CITIZEN:
        return VerifiedUserFactory(segment=Segment.VISITOR)  # visitors are not eligible: tallies stay unchanged
    if role == SUPERUSER:
        return SuperUserFactory()
    return staff_member(role, *entities)


# ---------------------------------------------------------------------------
# The small fixtures whose exports are known byte for byte
# ---------------------------------------------------------------------------


def transport_ministry():
    return Entity.objects.get_or_create(
        slug="transport", defaults={"name_ar": "وزارة المواصلات", "name_en": "Ministry of Transport"}
    )[0]


def _texts(title_ar, title_en):
    return {
        "title_ar": title_ar,
        "title_en": title_en,
        "summary_ar": "ملخص",
        "summary_en": "Summary",
        "body_ar": "النص",
        "body_en": "Text",
    }


VOTERS = (
    ("amal@example.qa", "أمل الكواري", Segment.CITIZEN),
    ("badr@example.qa", "Badr Khan", Segment.RESIDENT),
    ("carim@example.qa", "@SUM(1+1)", Segment.CITIZEN),
)


def voters():
    """Amal (citizen), Badr (resident) and a citizen whose name is a formula; identities verified.

    The same three people take part in every fixture, so each item counts three eligible people.
    """
    return tuple(
        User.objects.filter(email=email).first() or VerifiedUserFactory(email=email, full_name=name, segment=segment)
        for email, name, segment in VOTERS
    )


def bus_poll(slug="bus-routes", entity=None, tally=True):
    """A closed poll: one question with a comma and quotes, an option that is a formula, "no opinion".

    Amal chose option 1 and Badr option 2 on 10 March; Carim chose "no opinion" at 01:30 on 11 March.
    Returns (poll, (amal, badr, carim)).
    """
    with at(OPENS):
        poll = Poll.objects.create(
            entity=entity or transport_ministry(),
            slug=slug,
            opens_at=OPENS,
            closes_at=CLOSES,
            state=State.DRAFT,  # opened below, once its content is in (the database freezes it then)
            **_texts("استطلاع مسارات الحافلات", "Bus routes"),
        )
        question = Question.objects.create(
            item=poll, position=1, text_ar="أي خط تفضّل؟", text_en='Which line, "A" or B?', allow_abstain=True
        )
        line_1 = Option.objects.create(question=question, position=1, text_ar="الخط الأول", text_en="Line 1, express")
        formula = Option.objects.create(question=question, position=2, text_ar=HYPERLINK, text_en=HYPERLINK)
        opened(poll)
        people = voters()
    amal, badr, carim = people
    with at(VOTE_DAY):
        voting.cast_poll_ballot(amal, poll, {question.pk: [line_1.pk]})
        voting.cast_poll_ballot(badr, poll, {question.pk: [formula.pk]})
    with at(EARLY_HOURS):
        voting.cast_poll_ballot(carim, poll, {question.pk: [voting.ABSTAIN]})
    if tally:
        with at(TALLIED):
            counting.tally_and_publish(poll.pk, now=timezone.now())
    poll.refresh_from_db()
    return poll, people


RECEIPTS = ("AAAA-BBBB-CCCC-DDDD-EEEE", "KKKK-LLLL-MMMM-NNNN-2222", "QQQQ-RRRR-SSSS-TTTT-7777")


def new_law_referendum(slug="new-law", entity=None, known_receipts=True):
    """A closed, published referendum: yes, no and a blank vote, with known receipt codes (RECEIPTS) if asked.

    Returns (referendum, {receipt: option position}).
    """
    with at(OPENS):
        referendum = Referendum.objects.create(
            entity=entity or transport_ministry(),
            slug=slug,
            opens_at=OPENS,
            closes_at=CLOSES,
            state=State.DRAFT,  # opened below, once its content is in (the database freezes it then)
            **_texts("قانون المرور الجديد", "The new traffic law"),
        )
        question = Question.objects.create(
            item=referendum, position=1, text_ar="هل توافق؟", text_en="Do you agree?", allow_abstain=True
        )
        yes = Option.objects.create(question=question, position=1, text_ar="نعم", text_en="Yes")
        no = Option.objects.create(question=question, position=2, text_ar="لا", text_en="No")
        opened(referendum)
        amal, badr, carim = voters()
    # Known receipts (in reverse order of casting, so the export's order is not the casting order).
    codes = iter(reversed(RECEIPTS)) if known_receipts else None
    with mock.patch.object(voting, "new_receipt_code", lambda: next(codes)) if known_receipts else nullcontext():
        with at(VOTE_DAY):
            voting.cast_referendum_ballot(amal, referendum, yes.pk)
            voting.cast_referendum_ballot(badr, referendum, no.pk)
        with at(EARLY_HOURS):
            voting.cast_referendum_ballot(carim, referendum, voting.ABSTAIN)
    with at(TALLIED):
        counting.tally_and_publish(referendum.pk, now=timezone.now())
    referendum.refresh_from_db()
    ballots = ReferendumBallot.objects.filter(item=referendum).select_related("option")
    return referendum, {ballot.receipt: ballot.option.position if ballot.option else 0 for ballot in ballots}


def transport_consultation(slug="transport-law", entity=None):
    """A closed consultation with a published, a hidden (formula) and a pending (two-line) comment.

    Returns (consultation, [comments in order of writing], moderator).
    """
    with at(OPENS):
        consultation = Consultation.objects.create(
            entity=entity or transport_ministry(),
            slug=slug,
            opens_at=OPENS,
            closes_at=CLOSES,
            state=State.DRAFT,  # opened below, once its content is in (the database freezes it then)
            **_texts("مسودة قانون النقل", "Draft transport law"),
        )
        section = Section.objects.create(
            item=consultation, number=1, heading_ar="التعريفات", heading_en="Definitions", body_ar="نص", body_en="Text"
        )
        opened(consultation)
        amal, badr, carim = voters()
        moderator = User.objects.filter(email="moderator@gov.example.qa").first() or staff_member(
            MODERATORS, email="moderator@gov.example.qa"
        )
        consultation.entity.members.add(moderator)
    with at(VOTE_DAY):
        published = consultation_service.add_comment(amal, consultation, 'Good idea, but "slow"', section=section)
    with at(VOTE_DAY.replace(minute=31)):
        hidden = consultation_service.add_comment(badr, consultation, "=1+1")
    with at(EARLY_HOURS):
        pending = consultation_service.add_comment(carim, consultation, "- point one\n- point two")
    with at(MODERATED):
        moderation.moderate_comment(moderator, published, approve=True)
        moderation.moderate_comment(moderator, hidden, approve=False, reason="Not about the draft")
    consultation.refresh_from_db()
    return consultation, [published, hidden, pending], moderator


def ten_ballot_poll(slug="ten-ballots"):
    """A closed, tallied poll with ten ballots of one answer each (for the streaming tests)."""
    poll, question, options = open_poll(slug=slug, closes_at=CLOSES)
    with at(VOTE_DAY):
        for n in range(10):
            voter = UserFactory(segment=Segment.CITIZEN if n % 2 else Segment.RESIDENT)
            voting.cast_poll_ballot(voter, poll, {question.pk: [options[n % len(options)].pk]})
    with at(TALLIED):
        counting.tally_and_publish(poll.pk, now=timezone.now())
    poll.refresh_from_db()
    return poll


def open_poll(slug="still-open", opens_at=OPENS, closes_at=None, state=State.OPEN, entity=None):
    """A poll with one question and two options; open now unless told otherwise. Returns (poll, question, options)."""
    closes_at = closes_at or timezone.now() + timedelta(days=7)
    poll = Poll.objects.create(
        entity=entity or transport_ministry(),
        slug=slug,
        opens_at=opens_at,
        closes_at=closes_at,
        state=State.DRAFT,
        **_texts("استطلاع", "A poll"),
    )
    question = Question.objects.create(item=poll, position=1, text_ar="سؤال؟", text_en="Question?")
    options = [
        Option.objects.create(question=question, position=p, text_ar=f"خيار {p}", text_en=f"Choice {p}") for p in (1, 2)
    ]
    return opened(poll, state), question, options


def opened(item, state=State.OPEN):
    """Give an item built as a draft its state, once its questions or sections are in: from its opening the
    database refuses adding them (migration 0012_frozen_content)."""
    type(item).objects.filter(pk=item.pk).update(state=state)
    item.state = state
    return item


# ---------------------------------------------------------------------------
# Reading responses and files
# ---------------------------------------------------------------------------


def body_of(response):
    """The bytes of a response, streamed or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def csv_text(expected_lines):
    """What a CSV export must be, as bytes: BOM, then every line ended by CRLF."""
    return (BOM + "".join(line + CRLF for line in expected_lines)).encode("utf-8")


def read_csv(data):
    """Rows of a downloaded CSV (bytes), BOM removed; the first row is the header."""
    text = data.decode("utf-8")
    assert text.startswith(BOM), "the CSV has no byte-order mark"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_dicts(data):
    header, *rows = read_csv(data)
    return [dict(zip(header, row, strict=True)) for row in rows]


def message_in(lang, msgid):
    with translation.override(lang):
        return translation.gettext(msgid)


# ---------------------------------------------------------------------------
# Management commands
# ---------------------------------------------------------------------------


def run_command(name, *args):
    """(exit code, stdout) of a management command; SystemExit(n) gives n."""
    out = io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


# ---------------------------------------------------------------------------
# The audit trail
# ---------------------------------------------------------------------------

APPEND_ONLY_TRIGGER = "participation_auditentry_append_only"


def tamper_with_audit_log(sql, params):
    """Run one UPDATE or DELETE on the audit table as an attacker who can lift the database's guards.

    Every trigger on the audit table is lifted for the statement and put back afterwards as it was
    (PostgreSQL: disabled and enabled ALWAYS again; SQLite: dropped and created again).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of this test's inserts are "pending trigger events", which
            # ALTER TABLE refuses to run beside: check them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        lift, restore = guard_statements(connection)
        for statement in lift:
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in restore:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def tamper_object_repr(entry, text="x"):
    tamper_with_audit_log("UPDATE participation_auditentry SET object_repr = %s WHERE id = %s", [text, entry.pk])


def remove_audit_entry(entry):
    tamper_with_audit_log("DELETE FROM participation_auditentry WHERE id = %s", [entry.pk])


def entries(action=None, **filters):
    queryset = AuditEntry.objects.order_by("pk")
    if action:
        queryset = queryset.filter(action=action)
    return list(queryset.filter(**filters))


# ---------------------------------------------------------------------------
# The admin
# ---------------------------------------------------------------------------


def as_admin_user(client, user, lang):
    """Log in for the admin, which follows the browser's language (no prefix in its addresses)."""
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def poll_form(entity, *, slug="new-poll", title_en="A new poll", opens=None, closes=None):
    """What the poll form in admin posts: both languages, citizens and residents, no questions."""
    opens = timezone.localtime(opens or timezone.now() + timedelta(days=1))
    closes = timezone.localtime(closes or opens + timedelta(days=7))
    return {
        "entity": entity.pk,
        "slug": slug,
        "title_ar": "استطلاع جديد",
        "title_en": title_en,
        "summary_ar": "ملخص",
        "summary_en": "Summary",
        "body_ar": "نص",
        "body_en": "Body",
        "opens_at_0": opens.strftime("%Y-%m-%d"),
        "opens_at_1": opens.strftime("%H:%M:%S"),
        "closes_at_0": closes.strftime("%Y-%m-%d"),
        "closes_at_1": closes.strftime("%H:%M:%S"),
        "for_citizens": "on",
        "for_residents": "on",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
