"""The access table of docs/security.md, requested cell by cell: every URL against every kind of user.

Where the table lives, and why: in THIS module, as the Python structure `TABLE` below, and docs/security.md is
generated from it (`python -m tests.access_doc > docs/security.md`; a test fails when the file differs).
A Python structure can say "200 for everyone" or "404 except the staff of the item's own ministry" once, where a
Markdown table parsed back would repeat every cell by hand and a typo in it would silently become a new rule.

Every cell is one request, in Arabic and in English, each inside a savepoint that is rolled back, so cells never
depend on each other. Requests that write (POST) are sent with a real CSRF token, and where the table refuses
them the test checks that nothing in the database changed. The expected answers are written out here, never
computed from the portal's own permission code, so a change in rules.py or admin.py that opens a hole fails.
"""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import IdentityClaim, PendingVerification, Segment, User, VerificationDecision
from participation.models import (
    AuditEntry,
    Comment,
    Consultation,
    Entity,
    Item,
    PageFeedback,
    Poll,
    Question,
    Referendum,
    Result,
    Section,
    State,
)
from participation.services import consultation as consultation_service
from participation.services import counting, voting

LANGS = ("ar", "en")

# ---------------------------------------------------------------------------
# Who
# ---------------------------------------------------------------------------

ROLES = {
    "anon": "Anonymous visitor (not signed in)",
    "unverified": "Citizen, identity not verified",
    "citizen": "Citizen, identity verified",
    "resident": "Resident, identity verified",
    "visitor": "Visitor (tourist)",
    "staff_a": "Ministry staff of ministry A (group Ministry staff, member of A only)",
    "admin_a": "Ministry admin of ministry A (group Ministry admins, member of A only)",
    "moderator": "Moderator (group Moderators)",
    "auditor": "Auditor (group Auditors)",
    "verifier": "Verifier (group Verifiers: the identity queue)",
    "superuser": "Superuser",
}
PUBLIC = tuple(ROLES)[:5]  # the people without a staff account
STAFF = tuple(ROLES)[5:]

# Codes used in the table. LOGIN is a 302 to the sign-in page (the portal's or the admin's).
OK, FOUND, LOGIN, DENIED, GONE, NOT_ALLOWED = 200, 302, "302-login", 403, 404, 405


def every(code):
    return dict.fromkeys(ROLES, code)


def but(default, **overrides):
    """`default` for every role, except the ones named."""
    return every(default) | overrides


def signed_in(code):
    """`code` for everyone signed in; anonymous visitors are sent to the portal's sign-in page."""
    return but(code, anon=LOGIN)


def admin_page(staff, public=LOGIN):
    """An admin page: people without a staff account are sent to the admin sign-in; `staff` maps each staff role."""
    return dict.fromkeys(PUBLIC, public) | staff


# ---------------------------------------------------------------------------
# The world every cell is asked in (built once per module)
# ---------------------------------------------------------------------------

PDF = b"%PDF-1.4\n% access table\n"


def _entity(key):
    return Entity.objects.create(slug=f"ministry-{key}", name_ar=f"وزارة {key}", name_en=f"Ministry {key.upper()}")


def _item(model, slug, entity, *, opens=-2, closes=5, state=State.SCHEDULED, content=None, **fields):
    """An item in `state`; `content(item)` adds its questions, sections or file while it is still a draft
    (once an item has opened, the database refuses them)."""
    now = timezone.now()
    item = model.objects.create(
        slug=slug, entity=entity, title_ar=f"بند {slug}", title_en=f"Item {slug}", summary_ar="ملخص", summary_en="Summary",
        body_ar="نص", body_en="Text", opens_at=now + timedelta(days=opens), closes_at=now + timedelta(days=closes),
        state=State.DRAFT, **fields,
    )
    if content:
        content(item)
    if state != State.DRAFT:
        Item.objects.filter(pk=item.pk).update(state=state)
        item.refresh_from_db()
    return item


def _section(item):
    Section.objects.create(item=item, number=1, heading_ar="قسم", heading_en="Section", body_ar="نص", body_en="Text")


def _with_pdf(name):
    def attach(item):
        _question(item)
        item.attachment.save(name, ContentFile(PDF), save=True)

    return attach


def _question(item, options=2):
    question = Question.objects.create(item=item, position=1, text_ar="سؤال؟", text_en="Question?")
    for position in range(1, options + 1):
        question.options.create(position=position, text_ar=f"خيار {position}", text_en=f"Choice {position}")
    return question


def _user(role):
    from tests.factories import StaffUserFactory, SuperUserFactory, UserFactory, VerifiedUserFactory

    if role == "unverified":
        return UserFactory(segment=Segment.CITIZEN)
    if role in ("citizen", "resident", "visitor"):
        return VerifiedUserFactory(segment=role)
    if role == "superuser":
        return SuperUserFactory()
    group = {
        "staff_a": "Ministry staff",
        "admin_a": "Ministry admins",
        "moderator": "Moderators",
        "auditor": "Auditors",
        "verifier": "Verifiers",
    }[role]
    user = StaffUserFactory()
    user.groups.add(Group.objects.get(name=group))
    return user


def build_world():
    """Two ministries, A and B, each with the same items; the people of ROLES; a few rows for the admin."""
    world = {"users": {role: _user(role) for role in ROLES if role != "anon"}}
    for key in ("a", "b"):
        entity = _entity(key)
        world[f"entity_{key}"] = entity
        poll = _item(Poll, f"poll-{key}", entity, for_visitors=True, live_results=False, content=_with_pdf("poll.pdf"))
        draft = _item(Poll, f"draft-{key}", entity, state=State.DRAFT, for_visitors=True, content=_with_pdf("draft.pdf"))
        referendum = _item(Referendum, f"ref-{key}", entity, requires_verified_identity=True, content=_question)
        published = _item(Referendum, f"done-{key}", entity, requires_verified_identity=True, content=_question)
        consultation = _item(Consultation, f"cons-{key}", entity, for_visitors=True, content=_section)
        section = consultation.sections.get()
        closed = _item(Consultation, f"closed-{key}", entity, opens=-20, closes=-10, state=State.CLOSED, content=_section)
        voter = world["users"]["citizen"]
        voting.cast_referendum_ballot(voter, published, str(published.questions.first().options.first().pk))
        Item.objects.filter(pk=published.pk).update(opens_at=timezone.now() - timedelta(days=3), closes_at=timezone.now() - timedelta(seconds=5))
        counting.tally_and_publish(published.pk)
        comment = consultation_service.add_comment(world["users"]["resident"], consultation, f"Comment on {key}", section)
        world |= {
            f"poll_{key}": poll, f"draft_{key}": draft, f"ref_{key}": referendum, f"done_{key}": published,
            f"cons_{key}": consultation, f"closed_{key}": closed, f"comment_{key}": comment,
            f"question_{key}": poll.questions.first(), f"result_{key}": Result.objects.get(item=published),
        }
    entity_a = world["entity_a"]
    for role in ("staff_a", "admin_a", "moderator"):
        entity_a.members.add(world["users"][role])
    world["feedback"] = PageFeedback.objects.create(path="/ar/about/", language="ar", is_easy=True)
    world["audit_a"] = AuditEntry.objects.filter(entity=entity_a).first()
    world["audit_b"] = AuditEntry.objects.filter(entity=world["entity_b"]).first()
    world["group"] = Group.objects.get(name="Moderators")
    world["user"] = world["users"]["citizen"]
    from allauth.account.models import EmailAddress

    world["email_address"] = EmailAddress.objects.filter(user=world["user"]).first() or EmailAddress.objects.create(
        user=world["user"], email=world["user"].email, verified=True, primary=True
    )
    world["claim"] = IdentityClaim.objects.create(
        identity_number=world["users"]["citizen"].identity_number, claimant=world["users"]["unverified"],
        holder=world["users"]["citizen"],
    )
    world["pending_check"] = PendingVerification.objects.get(pk=world["users"]["unverified"].pk)
    world["decision"] = VerificationDecision.objects.create(
        person=world["users"]["resident"], outcome=VerificationDecision.Outcome.APPROVED, decided_by=world["users"]["superuser"]
    )
    return world


# ---------------------------------------------------------------------------
# What: every URL, and what each kind of user gets
# ---------------------------------------------------------------------------
# (label, method, path, POST data or None). Paths are after /<lang>/ unless they start with /admin/ or /healthz.
# {x.pk} placeholders are filled from the world; A is the ministry of staff_a and admin_a, B is the other one.

PORTAL = [
    ("Home", "GET", "", None),
    ("About", "GET", "about/", None),
    ("Policy", "GET", "policy/", None),
    ("List, open tab", "GET", "participate/?tab=open", None),
    ("List, closed tab", "GET", "participate/?tab=closed", None),
    ("Choose audience", "GET", "audience/?segment=citizen", None),
    ("Audience (POST)", "POST", "audience/", {"segment": "citizen"}),
    ("Feedback answer", "POST", "feedback/", {"path": "/ar/about/", "is_easy": "yes"}),
    ("Sign in", "GET", "accounts/login/", None),
    ("Sign up", "GET", "accounts/signup/", None),
    ("Profile", "GET", "profile/", None),
    ("Poll of A", "GET", "polls/poll-a/", None),
    ("Poll of B", "GET", "polls/poll-b/", None),
    ("Vote in poll of A", "POST", "polls/poll-a/", {"question-{question_a.pk}": "{question_a.options.first.pk}"}),
    ("Poll results of A (not shown while open)", "GET", "polls/poll-a/results/", None),
    ("Draft poll of A", "GET", "polls/draft-a/", None),
    ("Draft poll of B", "GET", "polls/draft-b/", None),
    ("Vote in draft poll of A", "POST", "polls/draft-a/", {"question-{draft_a.questions.first.pk}": "{draft_a.questions.first.options.first.pk}"}),
    ("Draft poll results of A", "GET", "polls/draft-a/results/", None),
    ("Draft poll thanks of A", "GET", "polls/draft-a/thanks/", None),
    ("Attachment of poll of A", "GET", "documents/poll-a.pdf", None),
    ("Attachment of draft of A", "GET", "documents/draft-a.pdf", None),
    ("Attachment of draft of B", "GET", "documents/draft-b.pdf", None),
    ("Attachment (POST)", "POST", "documents/poll-a.pdf", {}),
    ("Referendum of A", "GET", "referendums/ref-a/", None),
    ("Vote in referendum of A", "POST", "referendums/ref-a/", {"choice": "{ref_a.questions.first.options.first.pk}"}),
    ("Published referendum results", "GET", "referendums/done-a/results/", None),
    ("Receipts list", "GET", "referendums/done-a/receipts/", None),
    ("Receipts of an open referendum", "GET", "referendums/ref-a/receipts/", None),
    ("Open results: ballots.csv", "GET", "referendums/done-a/ballots.csv", None),
    ("Open results: result.json", "GET", "referendums/done-a/result.json", None),
    ("Open results of an open referendum", "GET", "referendums/ref-a/result.json", None),
    ("Consultation of A", "GET", "consultations/cons-a/", None),
    ("Comment on consultation of A", "POST", "consultations/cons-a/comment/", {"body": "A fair point about section one."}),
    ("React to section of A", "POST", "consultations/cons-a/sections/1/react/", {"agrees": "yes"}),
    ("Outcome of closed consultation", "GET", "consultations/closed-a/outcome/", None),
    ("Outcome of open consultation", "GET", "consultations/cons-a/outcome/", None),
    ("Audit checkpoint", "GET", "audit/checkpoint/", None),
    ("Audit checkpoint JSON", "GET", "audit/checkpoint.json", None),
    ("Audit index (auditors)", "GET", "audit/", None),
    ("Audit trail CSV", "GET", "audit/trail.csv", None),
    ("Export: referendum ballots CSV", "GET", "audit/referendum/done-a/ballots.csv", None),
    ("Export: checksum", "GET", "audit/referendum/done-a/ballots.csv.sha256", None),
    ("Export of a draft", "GET", "audit/poll/draft-a/ballots.csv", None),
    ("Unsubscribe, bad token", "GET", "unsubscribe/not-a-token/", None),
    ("Health check", "GET", "/healthz", None),
    ("You said, we did", "GET", "you-said-we-did/", None),
    ("You said, we did of A", "GET", "you-said-we-did/{entity_a.slug}/", None),
    ("Open data index", "GET", "data/", None),
    ("Open data: published referendum result CSV", "GET", "data/results/referendum/done-a.csv", None),
    ("Open data: open referendum result JSON", "GET", "data/results/referendum/ref-a.json", None),
    ("Open data: accountability table", "GET", "data/accountability-consultations.csv", None),
    ("Feed of opened items", "GET", "feeds/opened.atom", None),
    ("Calendar of dates", "GET", "feeds/calendar.ics", None),
    ("Sitemap", "GET", "/sitemap.xml", None),
    ("robots.txt", "GET", "/robots.txt", None),
]

# The registered admin models, the world's objects of A and of B they are asked about, and whether a model is
# scoped by ministry (then B's object is asked separately).
ADMIN_OBJECTS = {
    "account.emailaddress": ("email_address", None),
    "accounts.user": ("user", None),
    "accounts.identityclaim": ("claim", None),
    "accounts.pendingverification": ("pending_check", None),
    "accounts.verificationdecision": ("decision", None),
    "participation.entity": ("entity_a", "entity_b"),
    "participation.question": ("question_a", "question_b"),
    "participation.poll": ("poll_a", "poll_b"),
    "participation.referendum": ("ref_a", "ref_b"),
    "participation.consultation": ("cons_a", "cons_b"),
    "participation.comment": ("comment_a", "comment_b"),
    "participation.pagefeedback": ("feedback", None),
    "participation.auditentry": ("audit_a", "audit_b"),
    "participation.result": ("result_a", "result_b"),
    "auth.group": ("group", None),
}
# Admin actions, each asked on A's object (and on B's where the model is scoped).
ADMIN_ACTIONS = {
    "participation.poll": ["schedule", "close_now", "publish", "delete_selected"],
    "participation.referendum": ["close_now", "publish"],
    "participation.consultation": ["close_now", "publish"],
    "participation.comment": ["approve"],
    "accounts.user": ["verify_identity", "reset_identity_verification"],
    "accounts.identityclaim": ["give_number_to_claimant", "leave_number_with_holder"],
    "accounts.pendingverification": ["approve_selected"],
}


def admin_rows():
    rows = []
    for label, (a, b) in ADMIN_OBJECTS.items():
        app, model = label.split(".")
        base = f"/admin/{app}/{model}/"
        rows += [
            (f"Admin {label}: list", "GET", base, None),
            (f"Admin {label}: add form", "GET", f"{base}add/", None),
            (f"Admin {label}: add (POST)", "POST", f"{base}add/", {}),
        ]
        for key, obj in (("A", a), ("B", b)):
            if obj is None:
                continue
            which = f" of {key}" if b else ""
            rows += [
                (f"Admin {label}: change form{which}", "GET", f"{base}{{{obj}.pk}}/change/", None),
                (f"Admin {label}: change (POST){which}", "POST", f"{base}{{{obj}.pk}}/change/", {}),
                (f"Admin {label}: history{which}", "GET", f"{base}{{{obj}.pk}}/history/", None),
                (f"Admin {label}: delete form{which}", "GET", f"{base}{{{obj}.pk}}/delete/", None),
                (f"Admin {label}: delete (POST){which}", "POST", f"{base}{{{obj}.pk}}/delete/", {"post": "yes"}),
            ]
            for action in ADMIN_ACTIONS.get(label, []):
                rows.append(
                    (f"Admin {label}: action {action}{which}", "POST", base,
                     {"action": action, "_selected_action": f"{{{obj}.pk}}", "index": "0", "post": "yes"})
                )
    return rows


ROWS = PORTAL + admin_rows()


# ---------------------------------------------------------------------------
# Asking
# ---------------------------------------------------------------------------

CSRF_SECRET = "a" * 32  # a well-formed CSRF secret; the same value is accepted as the form's token


def _fill(text, world):
    def lookup(match):
        value = world
        for part in match.group(1).split("."):
            value = world[part] if value is world else getattr(value, part)
            if callable(value) and part in ("first",):
                value = value()
        return str(value)

    return re.sub(r"\{([a-z_]+(?:\.[a-z_]+)*)\}", lookup, text)


def _url(path, lang):
    return path if path.startswith("/") else f"/{lang}/{path}"


_TABLES = []


def _tables():
    if not _TABLES:
        _TABLES.extend(sorted(connection.introspection.table_names()))
    return _TABLES


def fingerprint():
    """Row counts of every table, and the columns refused writes could change in place."""
    tables = _tables()
    # Table names come from the database catalogue, never from input.
    union = " UNION ALL ".join(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(union)
        counts = tuple(row[0] for row in cursor.fetchall())
    return (
        counts,
        tuple(Item.objects.order_by("pk").values_list("pk", "state", "closes_at", "title_en", "attachment")),
        tuple(Comment.objects.order_by("pk").values_list("pk", "status")),
        tuple(User.objects.order_by("pk").values_list("pk", "verification", "identity_number", "is_active", "is_staff")),
        tuple(IdentityClaim.objects.order_by("pk").values_list("pk", "resolution")),
        tuple(Entity.objects.order_by("pk").values_list("pk", "name_en")),
        tuple(Group.objects.order_by("pk").values_list("pk", "name")),
    )


def ask(client, method, url, data):
    """One cell, in a savepoint that is rolled back: (status, whether the database changed)."""
    with transaction.atomic():
        before = fingerprint() if method == "POST" else None
        if method == "POST":
            response = client.post(url, {**data, "csrfmiddlewaretoken": CSRF_SECRET})
        else:
            response = client.get(url)
        changed = method == "POST" and fingerprint() != before
        transaction.set_rollback(True)
    status = response.status_code
    if status == 302 and ("/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]):
        status = LOGIN
    return status, changed


def clients(world):
    made = {}
    for role in ROLES:
        client = Client(enforce_csrf_checks=True)
        client.cookies["csrftoken"] = CSRF_SECRET
        if role != "anon":
            client.force_login(world["users"][role])
        made[role] = client
    return made


def probe(world, langs=("en",)):
    """What the portal answers now, cell by cell: {(label, lang): {role: (status, changed)}}."""
    answers = {}
    made = clients(world)
    for label, method, path, data in ROWS:
        for lang in langs:
            url = _url(_fill(path, world), lang)
            filled = {_fill(k, world): _fill(v, world) for k, v in (data or {}).items()}
            answers[(label, lang)] = {role: ask(made[role], method, url, filled) for role in ROLES}
    return answers


# ---------------------------------------------------------------------------
# THE TABLE: what each kind of user gets, in the order of ROLES
# ---------------------------------------------------------------------------
# 200 page, 302 redirect (to the item, the list or the admin index: nothing shown), L 302 to a sign-in page,
# 400 refused input, 403 refused, 404 not found (drafts, unpublished results), 405 wrong method.
# W: the request wrote to the database (allowed writes only). A refused POST must write nothing.
# Reviewed by hand against the intent (issue 10 part 8): drafts are 404 to everyone but the staff of their own
# ministry, superusers and auditors (issue 14: whoever sees a draft in the admin may preview it, permissions.py;
# a moderator sees consultations there, not polls, so previews neither a draft poll nor its document); staff of A never see B's objects (302 to the admin index); auditors read everything
# and change nothing; verifiers see the identity queue and its decisions, approve there, and nothing else;
# only superusers touch users, groups, e-mail addresses and identity claims.

TABLE = {
    'Home': "200 200 200 200 200 200 200 200 200 200 200",
    'About': "200 200 200 200 200 200 200 200 200 200 200",
    'Policy': "200 200 200 200 200 200 200 200 200 200 200",
    'List, open tab': "200 200 200 200 200 200 200 200 200 200 200",
    'List, closed tab': "200 200 200 200 200 200 200 200 200 200 200",
    'Choose audience': "302 302 302 302 302 302 302 302 302 302 302",
    'Audience (POST)': "405 405 405 405 405 405 405 405 405 405 405",
    'Feedback answer': "400 400 400 400 400 400 400 400 400 400 400",
    'Sign in': "200 302 302 302 302 302 302 302 302 302 302",
    'Sign up': "200 302 302 302 302 302 302 302 302 302 302",
    'Profile': "L 200 200 200 200 200 200 200 200 200 200",
    'Poll of A': "200 200 200 200 200 200 200 200 200 200 200",
    'Poll of B': "200 200 200 200 200 200 200 200 200 200 200",
    'Vote in poll of A': "403 302W 302W 302W 302W 403 403 403 403 403 403",
    'Poll results of A (not shown while open)': "200 200 200 200 200 200 200 200 200 200 200",
    'Draft poll of A': "404 404 404 404 404 200 200 404 200 404 200",
    'Draft poll of B': "404 404 404 404 404 404 404 404 200 404 200",
    'Vote in draft poll of A': "404 404 404 404 404 403 403 404 403 404 403",
    'Draft poll results of A': "404 404 404 404 404 200 200 404 200 404 200",
    'Draft poll thanks of A': "404 404 404 404 404 302 302 404 302 404 302",
    'Attachment of poll of A': "200 200 200 200 200 200 200 200 200 200 200",
    'Attachment of draft of A': "404 404 404 404 404 200 200 404 200 404 200",
    'Attachment of draft of B': "404 404 404 404 404 404 404 404 200 404 200",
    'Attachment (POST)': "405 405 405 405 405 405 405 405 405 405 405",
    'Referendum of A': "200 200 200 200 200 200 200 200 200 200 200",
    'Vote in referendum of A': "403 403 200W 200W 403 403 403 403 403 403 403",
    'Published referendum results': "200 200 200 200 200 200 200 200 200 200 200",
    'Receipts list': "200 200 200 200 200 200 200 200 200 200 200",
    'Receipts of an open referendum': "404 404 404 404 404 404 404 404 404 404 404",
    'Open results: ballots.csv': "200 200 200 200 200 200 200 200 200 200 200",
    'Open results: result.json': "200 200 200 200 200 200 200 200 200 200 200",
    'Open results of an open referendum': "404 404 404 404 404 404 404 404 404 404 404",
    'Consultation of A': "200 200 200 200 200 200 200 200 200 200 200",
    'Comment on consultation of A': "403 302W 302W 302W 302W 403 403 403 403 403 403",
    'React to section of A': "403 302W 302W 302W 302W 403 403 403 403 403 403",
    'Outcome of closed consultation': "200 200 200 200 200 200 200 200 200 200 200",
    'Outcome of open consultation': "404 404 404 404 404 404 404 404 404 404 404",
    'Audit checkpoint': "200 200 200 200 200 200 200 200 200 200 200",
    'Audit checkpoint JSON': "200 200 200 200 200 200 200 200 200 200 200",
    'Audit index (auditors)': "403 403 403 403 403 403 403 403 200 403 200",
    'Audit trail CSV': "403 403 403 403 403 403 403 403 200 403 200",
    'Export: referendum ballots CSV': "403 403 403 403 403 403 403 403 200 403 200",
    'Export: checksum': "403 403 403 403 403 403 403 403 200 403 200",
    'Export of a draft': "403 403 403 403 403 403 403 403 404 403 404",
    'Unsubscribe, bad token': "400 400 400 400 400 400 400 400 400 400 400",
    'Health check': "200 200 200 200 200 200 200 200 200 200 200",
    'You said, we did': "200 200 200 200 200 200 200 200 200 200 200",
    'You said, we did of A': "200 200 200 200 200 200 200 200 200 200 200",
    'Open data index': "200 200 200 200 200 200 200 200 200 200 200",
    'Open data: published referendum result CSV': "200 200 200 200 200 200 200 200 200 200 200",
    'Open data: open referendum result JSON': "404 404 404 404 404 404 404 404 404 404 404",
    'Open data: accountability table': "200 200 200 200 200 200 200 200 200 200 200",
    'Feed of opened items': "200 200 200 200 200 200 200 200 200 200 200",
    'Calendar of dates': "200 200 200 200 200 200 200 200 200 200 200",
    'Sitemap': "200 200 200 200 200 200 200 200 200 200 200",
    'robots.txt': "200 200 200 200 200 200 200 200 200 200 200",
    'Admin account.emailaddress: list': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: add form': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: add (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: change form': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: change (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: history': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: delete form': "L L L L L 403 403 403 403 403 200",
    'Admin account.emailaddress: delete (POST)': "L L L L L 403 403 403 403 403 302W",
    'Admin accounts.user: list': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: add form': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: add (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: change form': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: change (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: history': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: delete form': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: delete (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.user: action verify_identity': "L L L L L 403 403 403 403 403 302",
    'Admin accounts.user: action reset_identity_verification': "L L L L L 403 403 403 403 403 302W",
    'Admin accounts.identityclaim: list': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.identityclaim: add form': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.identityclaim: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.identityclaim: change form': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.identityclaim: change (POST)': "L L L L L 403 403 403 403 403 302W",
    'Admin accounts.identityclaim: history': "L L L L L 403 403 403 403 403 200",
    'Admin accounts.identityclaim: delete form': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.identityclaim: delete (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.identityclaim: action give_number_to_claimant': "L L L L L 403 403 403 403 403 302W",
    'Admin accounts.identityclaim: action leave_number_with_holder': "L L L L L 403 403 403 403 403 302W",
    'Admin accounts.pendingverification: list': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.pendingverification: add form': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.pendingverification: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.pendingverification: change form': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.pendingverification: change (POST)': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.pendingverification: history': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.pendingverification: delete form': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.pendingverification: delete (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.pendingverification: action approve_selected': "L L L L L 403 403 403 403 302W 302W",
    'Admin accounts.verificationdecision: list': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.verificationdecision: add form': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.verificationdecision: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.verificationdecision: change form': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.verificationdecision: change (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.verificationdecision: history': "L L L L L 403 403 403 403 200 200",
    'Admin accounts.verificationdecision: delete form': "L L L L L 403 403 403 403 403 403",
    'Admin accounts.verificationdecision: delete (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin participation.entity: list': "L L L L L 200 200 403 200 403 200",
    'Admin participation.entity: add form': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: add (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: change form of A': "L L L L L 200 200 403 200 403 200",
    'Admin participation.entity: change (POST) of A': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: history of A': "L L L L L 200 200 403 200 302 200",
    'Admin participation.entity: delete form of A': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: delete (POST) of A': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: change form of B': "L L L L L 302 302 403 200 403 200",
    'Admin participation.entity: change (POST) of B': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.entity: delete form of B': "L L L L L 403 403 403 403 403 200",
    'Admin participation.entity: delete (POST) of B': "L L L L L 403 403 403 403 403 200",
    'Admin participation.question: list': "L L L L L 200 200 403 200 403 200",
    'Admin participation.question: add form': "L L L L L 200 200 403 403 403 200",
    'Admin participation.question: add (POST)': "L L L L L 200 200 403 403 403 200",
    'Admin participation.question: change form of A': "L L L L L 200 200 403 200 403 200",
    'Admin participation.question: change (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.question: history of A': "L L L L L 200 200 302 200 302 200",
    'Admin participation.question: delete form of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.question: delete (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.question: change form of B': "L L L L L 302 302 403 200 403 200",
    'Admin participation.question: change (POST) of B': "L L L L L 302 302 403 403 403 403",
    'Admin participation.question: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.question: delete form of B': "L L L L L 302 302 403 403 403 403",
    'Admin participation.question: delete (POST) of B': "L L L L L 302 302 403 403 403 403",
    'Admin participation.poll: list': "L L L L L 200 200 403 200 403 200",
    'Admin participation.poll: add form': "L L L L L 200 200 403 403 403 200",
    'Admin participation.poll: add (POST)': "L L L L L 200 200 403 403 403 200",
    'Admin participation.poll: change form of A': "L L L L L 200 200 403 200 403 200",
    'Admin participation.poll: change (POST) of A': "L L L L L 200 200 403 403 403 200",
    'Admin participation.poll: history of A': "L L L L L 200 200 302 200 302 200",
    'Admin participation.poll: delete form of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.poll: delete (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.poll: action schedule of A': "L L L L L 200 302 403 200 403 302",
    'Admin participation.poll: action close_now of A': "L L L L L 200 302W 403 200 403 302W",
    'Admin participation.poll: action publish of A': "L L L L L 200 302 403 200 403 302",
    'Admin participation.poll: action delete_selected of A': "L L L L L 200 403 403 200 403 403",
    'Admin participation.poll: change form of B': "L L L L L 302 302 403 200 403 200",
    'Admin participation.poll: change (POST) of B': "L L L L L 302 302 403 403 403 200",
    'Admin participation.poll: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.poll: delete form of B': "L L L L L 403 302 403 403 403 403",
    'Admin participation.poll: delete (POST) of B': "L L L L L 403 302 403 403 403 403",
    'Admin participation.poll: action schedule of B': "L L L L L 200 302 403 200 403 302",
    'Admin participation.poll: action close_now of B': "L L L L L 200 302 403 200 403 302W",
    'Admin participation.poll: action publish of B': "L L L L L 200 302 403 200 403 302",
    'Admin participation.poll: action delete_selected of B': "L L L L L 200 302 403 200 403 403",
    'Admin participation.referendum: list': "L L L L L 200 200 403 200 403 200",
    'Admin participation.referendum: add form': "L L L L L 200 200 403 403 403 200",
    'Admin participation.referendum: add (POST)': "L L L L L 200 200 403 403 403 200",
    'Admin participation.referendum: change form of A': "L L L L L 200 200 403 200 403 200",
    'Admin participation.referendum: change (POST) of A': "L L L L L 200 200 403 403 403 200",
    'Admin participation.referendum: history of A': "L L L L L 200 200 302 200 302 200",
    'Admin participation.referendum: delete form of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.referendum: delete (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.referendum: action close_now of A': "L L L L L 200 302W 403 200 403 302W",
    'Admin participation.referendum: action publish of A': "L L L L L 200 302 403 200 403 302",
    'Admin participation.referendum: change form of B': "L L L L L 302 302 403 200 403 200",
    'Admin participation.referendum: change (POST) of B': "L L L L L 302 302 403 403 403 200",
    'Admin participation.referendum: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.referendum: delete form of B': "L L L L L 403 302 403 403 403 403",
    'Admin participation.referendum: delete (POST) of B': "L L L L L 403 302 403 403 403 403",
    'Admin participation.referendum: action close_now of B': "L L L L L 200 302 403 200 403 302W",
    'Admin participation.referendum: action publish of B': "L L L L L 200 302 403 200 403 302",
    'Admin participation.consultation: list': "L L L L L 200 200 200 200 403 200",
    'Admin participation.consultation: add form': "L L L L L 200 200 403 403 403 200",
    'Admin participation.consultation: add (POST)': "L L L L L 200 200 403 403 403 200",
    'Admin participation.consultation: change form of A': "L L L L L 200 200 200 200 403 200",
    'Admin participation.consultation: change (POST) of A': "L L L L L 200 200 403 403 403 200",
    'Admin participation.consultation: history of A': "L L L L L 200 200 200 200 302 200",
    'Admin participation.consultation: delete form of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.consultation: delete (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.consultation: action close_now of A': "L L L L L 200 302W 200 200 403 302W",
    'Admin participation.consultation: action publish of A': "L L L L L 200 302 200 200 403 302",
    'Admin participation.consultation: change form of B': "L L L L L 302 302 302 200 403 200",
    'Admin participation.consultation: change (POST) of B': "L L L L L 302 302 403 403 403 200",
    'Admin participation.consultation: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.consultation: delete form of B': "L L L L L 403 302 403 403 403 403",
    'Admin participation.consultation: delete (POST) of B': "L L L L L 403 302 403 403 403 403",
    'Admin participation.consultation: action close_now of B': "L L L L L 200 302 200 200 403 302W",
    'Admin participation.consultation: action publish of B': "L L L L L 200 302 200 200 403 302",
    'Admin participation.comment: list': "L L L L L 200 200 200 200 403 200",
    'Admin participation.comment: add form': "L L L L L 403 403 403 403 403 403",
    'Admin participation.comment: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin participation.comment: change form of A': "L L L L L 200 200 200 200 403 200",
    'Admin participation.comment: change (POST) of A': "L L L L L 403 403 200 403 403 200",
    'Admin participation.comment: history of A': "L L L L L 200 200 200 200 302 200",
    'Admin participation.comment: delete form of A': "L L L L L 403 403 403 403 403 200",
    'Admin participation.comment: delete (POST) of A': "L L L L L 403 403 403 403 403 302W",
    'Admin participation.comment: action approve of A': "L L L L L 200 200 302W 200 403 302W",
    'Admin participation.comment: change form of B': "L L L L L 302 302 302 200 403 200",
    'Admin participation.comment: change (POST) of B': "L L L L L 403 403 302 403 403 200",
    'Admin participation.comment: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.comment: delete form of B': "L L L L L 403 403 403 403 403 200",
    'Admin participation.comment: delete (POST) of B': "L L L L L 403 403 403 403 403 302W",
    'Admin participation.comment: action approve of B': "L L L L L 200 200 302 200 403 302W",
    'Admin participation.pagefeedback: list': "L L L L L 403 403 403 200 403 200",
    'Admin participation.pagefeedback: add form': "L L L L L 403 403 403 403 403 403",
    'Admin participation.pagefeedback: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin participation.pagefeedback: change form': "L L L L L 403 403 403 200 403 200",
    'Admin participation.pagefeedback: change (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin participation.pagefeedback: history': "L L L L L 403 403 403 200 403 200",
    'Admin participation.pagefeedback: delete form': "L L L L L 403 403 403 403 403 200",
    'Admin participation.pagefeedback: delete (POST)': "L L L L L 403 403 403 403 403 302W",
    'Admin participation.auditentry: list': "L L L L L 403 403 403 200 403 200",
    'Admin participation.auditentry: add form': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: change form of A': "L L L L L 403 403 403 200 403 200",
    'Admin participation.auditentry: change (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: history of A': "L L L L L 403 403 403 200 302 200",
    'Admin participation.auditentry: delete form of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: delete (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: change form of B': "L L L L L 403 403 403 200 403 200",
    'Admin participation.auditentry: change (POST) of B': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.auditentry: delete form of B': "L L L L L 403 403 403 403 403 403",
    'Admin participation.auditentry: delete (POST) of B': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: list': "L L L L L 403 200 403 200 403 200",
    'Admin participation.result: add form': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: add (POST)': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: change form of A': "L L L L L 403 200 403 200 403 200",
    'Admin participation.result: change (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: history of A': "L L L L L 403 200 302 200 302 200",
    'Admin participation.result: delete form of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: delete (POST) of A': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: change form of B': "L L L L L 403 302 403 200 403 200",
    'Admin participation.result: change (POST) of B': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: history of B': "L L L L L 302 302 302 200 302 200",
    'Admin participation.result: delete form of B': "L L L L L 403 403 403 403 403 403",
    'Admin participation.result: delete (POST) of B': "L L L L L 403 403 403 403 403 403",
    'Admin auth.group: list': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: add form': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: add (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: change form': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: change (POST)': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: history': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: delete form': "L L L L L 403 403 403 403 403 200",
    'Admin auth.group: delete (POST)': "L L L L L 403 403 403 403 403 302W",
}
# The portal's pages are asked in both languages; the admin is not under a language prefix, so once.
ADMIN_PREFIX = "Admin "


def _expected(code):
    writes = code.endswith("W")
    code = code.rstrip("W")
    return (LOGIN if code == "L" else int(code)), writes


# The first section of docs/security.md: where what staff may do is decided, and how it is tested.
WHO_MAY_DO_WHAT = """# Who may do what

Staff: `participation/permissions.py` is the one place that decides what a member of staff may do, to which
item, and if not, why. Nothing else decides; everything that needs the answer asks it. Three things decide,
always in this order, each with the message a person reads when it refuses:

1. the role: the staff groups (Ministry staff, Ministry admins, Moderators, Auditors, Verifiers) give Django
   model permissions, made by the migrations `participation/migrations/0003_groups.py`,
   `0006_audit_append_only_and_auditors.py`, `0014_staff_roles.py` and `accounts/migrations/0004_oidc_verification.py`.
   For an item, the permission of its kind is asked (`view_poll`, `change_consultation` ...), as the admin does;
2. the ministry: staff act on their own ministries' items only. Superusers act on every ministry's; holders of
   `view_all_entities` (auditors) read every ministry's items and audit trail and write none of them;
3. the item's state, by the clock: only drafts are scheduled or deleted, only open items closed, only closed
   items published, corrections only once an item has opened.

The permissions: `participation.view_item`, `change_item`, `delete_item`, `schedule_item`, `close_item`,
`publish_item`, `correct_item`, `moderate_comment`, `export_results`, `view_auditentry`, and
`accounts.decide_verification` (the verifiers' queue; nobody decides on their own identity). They are
registered with django-rules, so `user.has_perm(name, obj)` answers from the same table.

Who asks:

- the admin (`participation/admin.py`, `accounts/admin.py`): its lists from `visible_items`, `visible_entities`,
  `own_entities`, `changeable_items` and `entity_scope`; each object through `permissions.allows(user, name,
  obj)`, which is `has_perm` without Django's "an active superuser may do anything" (the state binds superusers
  too). An action applies to the chosen rows the permission allows and says how many it skipped, and why;
- the public page of a draft and its document (`participation/views.py`, `participation/attachments.py`):
  `view_item`, so whoever sees a draft in the admin can preview it, and nobody else;
- the auditors' pages (`participation/audit_views.py`): `export_results`, `view_auditentry`, and the audit trail
  rows of the ministries the auditor may read;
- the role descriptions on the admin index (`participation/roles.py`);
- the services, which call `permissions.require(actor, name, obj)` and refuse with `NotPermitted`.

The people who take part: `Barrier` in `participation/rules.py` says who may vote or comment where, and why not.

Tested by `tests/test_permission_table.py`: a table of (kind of user × action × item state), written out by hand,
checked cell by cell against `permissions.refusal`, `has_perm`, the admin's pages and actions, and the draft's
public page; and a table of (person × item state × audience) for `Barrier`. The access table below checks
every address of the portal for every kind of user.

"""


def markdown():
    """docs/security.md, generated from WHO_MAY_DO_WHAT and TABLE."""
    lines = [
        *WHO_MAY_DO_WHAT.splitlines(),
        "# Access table",
        "",
        "Generated from `TABLE` in tests/test_access_table.py (`python -m tests.access_doc > docs/security.md`);",
        "the test requests every cell, in Arabic and English for the portal's pages, and fails when the portal or this",
        "file differs from the table. Change the table there, never here.",
        "",
        "Codes: 200 page; 302 redirect that shows nothing (to the item, or to the admin index for an object outside",
        "the user's ministry); L redirect to sign in; 400 refused input; 403 refused; 404 not found; 405 wrong method;",
        "W the request wrote (an allowed write). Every refused POST is checked to write nothing.",
        "",
        "Who:",
        "",
        *[f"- **{key}**: {text}" for key, text in ROLES.items()],
        "",
        "Ministry A is the ministry of staff_a, admin_a and the moderator; B is another ministry with the same items.",
        "Items: `poll-x` open poll, `draft-x` draft poll, `ref-x` open referendum (verified identity required),",
        "`done-x` published referendum, `cons-x` open consultation, `closed-x` closed consultation.",
        "",
        "| URL | Method | " + " | ".join(ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    paths = {label: (method, path) for label, method, path, _data in ROWS}
    for label, codes in TABLE.items():
        method, path = paths[label]
        shown = path if path.startswith("/") else f"/<lang>/{path}"
        lines.append(f"| {label}: `{shown}` | {method} | " + " | ".join(codes.split()) + " |")
    return "\n".join(lines) + "\n"


def test_every_row_is_in_the_table_and_every_admin_model_is_asked():
    assert [label for label, *_ in ROWS] == list(TABLE)
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_OBJECTS), "a model was (un)registered in the admin: add it to the access table"
    for codes in TABLE.values():
        assert len(codes.split()) == len(ROLES)


def test_docs_security_md_is_generated_from_the_table():
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "security.md"
    assert doc.read_text(encoding="utf-8") == markdown(), "regenerate: python -m tests.access_doc > docs/security.md"


@pytest.mark.django_db
def test_every_cell_answers_as_the_table_says(settings, tmp_path):
    """One test, so the world is built once; each cell runs in its own rolled-back savepoint."""
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    made = clients(world)
    wrong = []
    for label, method, path, data in ROWS:
        expected = dict(zip(ROLES, map(_expected, TABLE[label].split()), strict=True))
        langs = ("en",) if label.startswith(ADMIN_PREFIX) or path.startswith("/") else LANGS
        for lang in langs:
            url = _url(_fill(path, world), lang)
            filled = {_fill(k, world): _fill(v, world) for k, v in (data or {}).items()}
            for role in ROLES:
                status, wrote = ask(made[role], method, url, filled)
                want_status, may_write = expected[role]
                if status != want_status or (wrote and not may_write) or (may_write and not wrote):
                    wrong.append(f"{label} [{lang}] {method} {url} as {role}: got {status}{'W' if wrote else ''}, table says {TABLE[label].split()[list(ROLES).index(role)]}")
    assert not wrong, f"{len(wrong)} cells differ from the access table:\n" + "\n".join(wrong)
