"""Who may do what, from one table: (kind of user × action × item state) → allowed, or refused and why.

participation/permissions.py is the one authority for staff; this table is written out by hand, never computed
from it. For every cell three things must agree:

1. permissions.py: `refusal()` gives no message when the table says Y, NOT_YOUR_ROLE for R and -, NOT_YOUR_ENTITY
   for M, and a message about the item's state for S; `user.has_perm()` (django-rules) says the same, except for
   active superusers, to whom Django says yes before asking any backend (hence `permissions.allows` in the admin);
2. the admin, through the test client: the change page, the delete page, the actions and the correction inline
   answer as the table says (how each token reads in the admin is in `_admin_expectation`);
3. the public page of a draft (the preview, /en/polls/<slug>/): 200 when view is allowed, 404 otherwise.

`Barrier` (participation/rules.py) stays the authority for the people who take part: its table is at the bottom.

The named bugs of issue 14 fail here: an auditor who also writes for another ministry editing this one's items
(a "sees every entity" change check, as `ItemQuerySet.editable_by` was), and auditors who see drafts in the admin
but get a 404 on their preview (`rules.can_manage_entity` in views._get_item).
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import Segment
from participation import permissions
from participation.models import AuditEntry, Comment, Consultation, Entity, Item, ItemCorrection, Poll, Question, State
from participation.rules import Barrier, participation_barrier
from participation.services import trail
from tests.factories import CITIZEN_QID_PREFIX, StaffUserFactory, SuperUserFactory, UserFactory, VerifiedUserFactory

# ---------------------------------------------------------------------------
# Who: the kinds of user, in the order of every row's tokens
# ---------------------------------------------------------------------------

KINDS = {
    "anonymous": "not signed in",
    "citizen": "a verified citizen, not staff",
    "staff_own": "Ministry staff of the item's ministry (A)",
    "staff_other": "Ministry staff of another ministry (B)",
    "admin_own": "Ministry admin of A",
    "admin_other": "Ministry admin of B",
    "moderator": "Moderator of A",
    "auditor": "Auditor (view_all_entities), no ministry",
    "auditor_writer": "Auditor who is also Ministry staff of B: reads every ministry, writes only B's",
    "verifier": "Verifier (identity checks), nothing else",
    "superuser": "Superuser",
    "inactive": "Ministry admin of A whose account is switched off",
}
NOT_SIGNED_IN = ("anonymous", "citizen", "inactive")  # never reach the admin

GROUPS = {
    "staff_own": ["Ministry staff"],
    "staff_other": ["Ministry staff"],
    "admin_own": ["Ministry admins"],
    "admin_other": ["Ministry admins"],
    "moderator": ["Moderators"],
    "auditor": ["Auditors"],
    "auditor_writer": ["Auditors", "Ministry staff"],
    "verifier": ["Verifiers"],
    "inactive": ["Ministry admins"],
}
OF_A = ("staff_own", "admin_own", "moderator", "inactive")
OF_B = ("staff_other", "admin_other", "auditor_writer")

STATES = ("draft", "scheduled", "open", "closed", "published")

# ---------------------------------------------------------------------------
# What: the actions, the permission each asks and the object it is asked about
# ---------------------------------------------------------------------------
# (permission, object in the world: "poll" / "consultation" / "comment" / "entry" of the row's state, or None)
ACTIONS = {
    "view poll": ("participation.view_item", "poll"),
    "view consultation": ("participation.view_item", "consultation"),
    "change": ("participation.change_item", "poll"),
    "delete": ("participation.delete_item", "poll"),
    "schedule": ("participation.schedule_item", "poll"),
    "close": ("participation.close_item", "poll"),
    "publish": ("participation.publish_item", "consultation"),
    "correct": ("participation.correct_item", "poll"),
    "moderate": ("participation.moderate_comment", "comment"),
    "export": ("participation.export_results", None),
    "audit trail": ("participation.view_auditentry", "entry"),
}

# ---------------------------------------------------------------------------
# THE TABLE
# ---------------------------------------------------------------------------
# Tokens, in the order of KINDS: Y allowed; - refused, not signed in to the admin (no staff role);
# R refused by the role; M refused: another ministry's item; S refused by the item's state.
# fmt: off
#                 anon  cit   s_own s_oth a_own a_oth mod   aud   aud_w ver   su    inact
VIEW_POLL      = "-     -     Y     M     Y     M     R     Y     Y     R     Y     -"
VIEW_CONS      = "-     -     Y     M     Y     M     Y     Y     Y     R     Y     -"
CHANGE         = "-     -     Y     M     Y     M     R     R     M     R     Y     -"
ADMINS         = "-     -     R     R     Y     M     R     R     R     R     Y     -"  # ministry admins of A and superusers
REFUSED        = "-     -     R     R     S     M     R     R     R     R     S     -"  # the same, not in this state
BEFORE_OPENING = "-     -     S     M     S     M     R     R     M     R     S     -"
CORRECTING     = "-     -     Y     M     Y     M     R     R     M     R     Y     -"
MODERATE       = "-     -     R     R     R     R     Y     R     R     R     Y     -"
AUDITING       = "-     -     R     R     R     R     R     Y     Y     R     Y     -"

TABLE = {
    **{("view poll", state): VIEW_POLL for state in STATES},
    **{("view consultation", state): VIEW_CONS for state in STATES},
    **{("change", state): CHANGE for state in STATES},
    ("delete", "draft"):          ADMINS,
    ("delete", "scheduled"):      REFUSED,  # only drafts: people may have seen the others
    ("delete", "open"):           REFUSED,
    ("delete", "closed"):         REFUSED,
    ("delete", "published"):      REFUSED,
    ("schedule", "draft"):        ADMINS,
    ("schedule", "scheduled"):    REFUSED,
    ("schedule", "open"):         REFUSED,
    ("schedule", "closed"):       REFUSED,
    ("schedule", "published"):    REFUSED,
    ("close", "draft"):           REFUSED,
    ("close", "scheduled"):       REFUSED,  # scheduled, not yet open: nothing to close
    ("close", "open"):            ADMINS,
    ("close", "closed"):          REFUSED,
    ("close", "published"):       REFUSED,
    ("publish", "draft"):         REFUSED,
    ("publish", "scheduled"):     REFUSED,
    ("publish", "open"):          REFUSED,
    ("publish", "closed"):        ADMINS,
    ("publish", "published"):     REFUSED,
    ("correct", "draft"):         BEFORE_OPENING,  # before opening, staff correct the item itself
    ("correct", "scheduled"):     BEFORE_OPENING,
    ("correct", "open"):          CORRECTING,
    ("correct", "closed"):        CORRECTING,
    ("correct", "published"):     CORRECTING,
    **{("moderate", state): MODERATE for state in STATES},
    **{("export", state): AUDITING for state in STATES},
    **{("audit trail", state): AUDITING for state in STATES},
}
# fmt: on

# ---------------------------------------------------------------------------
# The world: two ministries, one poll and one consultation of A in each state, the people of KINDS
# ---------------------------------------------------------------------------

DATES = {  # (opens, closes) in days from now, and the stored state
    "draft": (1, 8, State.DRAFT),
    "scheduled": (1, 8, State.SCHEDULED),
    "open": (-1, 8, State.SCHEDULED),  # open by the clock, as the site and the admin read it
    "closed": (-20, -10, State.CLOSED),
    "published": (-20, -10, State.PUBLISHED),
}


def _texts(slug):
    return {
        "title_ar": f"بند {slug}",
        "title_en": f"Item {slug}",
        "summary_ar": "ملخص",
        "summary_en": "Summary",
        "body_ar": "نص",
        "body_en": "Text",
    }


def _item(model, slug, entity, state, **fields):
    """A complete item (its questions or sections added while a draft), then put in `state`."""
    opens, closes, stored = DATES[state]
    now = timezone.now()
    item = model.objects.create(
        slug=slug,
        entity=entity,
        opens_at=now + timedelta(days=opens),
        closes_at=now + timedelta(days=closes),
        state=State.DRAFT,
        **_texts(slug),
        **({"for_citizens": True} | fields),
    )
    if model is Poll:
        question = Question.objects.create(item=item, position=1, text_ar="سؤال؟", text_en="Question?")
        for position in (1, 2):
            question.options.create(position=position, text_ar=f"خيار {position}", text_en=f"Choice {position}")
    else:
        item.sections.create(number=1, heading_ar="قسم", heading_en="Section", body_ar="نص", body_en="Text")
    outcome = {}
    if model is not Poll and stored == State.PUBLISHED:  # published with its outcome, as the database insists
        outcome = {f"outcome_{part}_{lang}": "." for part in ("heard", "changed") for lang in ("ar", "en")}
        outcome["outcome_published_at"] = now
    Item.objects.filter(pk=item.pk).update(state=stored, **outcome)
    item.refresh_from_db()
    return item


def _person(kind, entities):
    if kind == "anonymous":
        return AnonymousUser()
    if kind == "citizen":
        return VerifiedUserFactory(segment=Segment.CITIZEN)
    if kind == "superuser":
        return SuperUserFactory()
    user = StaffUserFactory(is_active=kind != "inactive")
    user.groups.add(*Group.objects.filter(name__in=GROUPS[kind]))
    if kind in OF_A:
        entities["a"].members.add(user)
    if kind in OF_B:
        entities["b"].members.add(user)
    return user


def build_world():
    entities = {
        key: Entity.objects.create(slug=f"ministry-{key}", name_ar=f"وزارة {key}", name_en=f"Ministry {key.upper()}")
        for key in ("a", "b")
    }
    world = {"people": {kind: _person(kind, entities) for kind in KINDS}}
    for state in STATES:
        poll = _item(Poll, f"poll-{state}", entities["a"], state)
        consultation = _item(
            Consultation,
            f"consultation-{state}",
            entities["a"],
            state,
            moderate_before_publishing=True,
            outcome_heard_ar="سمعنا",
            outcome_heard_en="We heard",
            outcome_changed_ar="غيّرنا",
            outcome_changed_en="We changed",
        )
        author = world["people"]["citizen"]
        world[("poll", state)] = poll
        world[("consultation", state)] = consultation
        world[("comment", state)] = Comment.objects.create(
            item=consultation,
            author=author,
            body=f"A comment on the {state} consultation.",
            status=Comment.Status.PENDING,
        )
        world[("entry", state)] = trail.record(AuditEntry.Action.CHANGE, obj=poll, details={"table": state})
    return world


# ---------------------------------------------------------------------------
# 1. permissions.py
# ---------------------------------------------------------------------------

ROLE_OR_ENTITY = {str(permissions.NOT_YOUR_ROLE), str(permissions.NOT_YOUR_ENTITY)}


def _tokens(action, state):
    tokens = TABLE[(action, state)].split()
    assert len(tokens) == len(KINDS), (action, state)
    return dict(zip(KINDS, tokens, strict=True))


def permission_problems(world, action, state, kind, token):
    name, target = ACTIONS[action]
    user = world["people"][kind]
    obj = world[(target, state)] if target else None
    reason = permissions.refusal(user, name, obj)
    problems = []
    expected = {
        "Y": reason is None,
        "-": reason is not None and str(reason) == str(permissions.NOT_YOUR_ROLE),
        "R": reason is not None and str(reason) == str(permissions.NOT_YOUR_ROLE),
        "M": reason is not None and str(reason) == str(permissions.NOT_YOUR_ENTITY),
        "S": reason is not None and str(reason) not in ROLE_OR_ENTITY,
    }[token]
    if not expected:
        problems.append(f"refusal() says {reason!r}")
    if permissions.allows(user, name, obj) != (token == "Y"):
        problems.append("allows() disagrees")
    # Django answers True to active superusers before asking any backend: for them allows() is what counts
    # (the admin asks it), and the state rules bind them too.
    if user.has_perm(name, obj) != (kind == "superuser" or token == "Y"):
        problems.append(f"has_perm() says {user.has_perm(name, obj)}")
    return problems


# ---------------------------------------------------------------------------
# 2. the admin, 3. the preview
# ---------------------------------------------------------------------------

LOGIN = "login"
ADMIN_MODELS = {"poll": "poll", "consultation": "consultation", "comment": "comment", "entry": "auditentry"}
ITEM_ACTIONS = {"schedule": "schedule", "close": "close_now", "publish": "publish", "moderate": "approve"}


def _page_code(view_token):
    """An object's admin page, by whether its viewer may see it: Y 200, M 302 (not in their list), R 403."""
    return {"Y": 200, "M": 302, "R": 403, "-": LOGIN}[view_token]


# The row that says whether the user sees an object in the admin: a comment is seen with its consultation.
SEEN_AS = {
    "poll": "view poll",
    "consultation": "view consultation",
    "comment": "view consultation",
    "entry": "audit trail",
}


def _view_token(action, state, kind):
    return _tokens(SEEN_AS[ACTIONS[action][1]], state)[kind]


def _status(response):
    if response.status_code == 302 and "/admin/login/" in response["Location"]:
        return LOGIN
    return response.status_code


def _admin_url(target, obj, page="change"):
    return f"/admin/participation/{ADMIN_MODELS[target]}/{obj.pk}/{page}/"


def _changed(world, action, state):
    """What the action changes, read again from the database."""
    target = ACTIONS[action][1]
    obj = world[(target, state)]
    if target == "comment":
        return Comment.objects.get(pk=obj.pk).status
    return Item.objects.get(pk=obj.pk).state


def admin_problems(client, world, action, state, kind, token):
    target = ACTIONS[action][1]
    obj = world[(target, state)] if target else None
    view = _view_token(action, state, kind) if target else None
    problems = []

    def expect(what, got, wanted):
        if got != wanted:
            problems.append(f"{what}: got {got}, table says {wanted}")

    if action == "export":
        # The auditors' pages are not in the admin: every refusal there is a 403, signed in or not.
        expect("GET /en/audit/", client.get("/en/audit/").status_code, 200 if token == "Y" else 403)
        return problems
    if action in ("view poll", "view consultation", "change", "correct", "moderate", "audit trail"):
        response = client.get(_admin_url(target, obj))
        expect(f"GET {_admin_url(target, obj)}", _status(response), _page_code(view))
        if _status(response) == 200 and action != "view poll" and action != "view consultation":
            if action == "correct":
                offered = any(
                    formset.formset.model is ItemCorrection and formset.has_add_permission
                    for formset in response.context["inline_admin_formsets"]
                )
                expect("correction offered", offered, token == "Y")
            elif action != "audit trail":
                expect("editable", response.context["has_change_permission"], token == "Y")
    if action == "audit trail":
        expect("GET /en/audit/trail.csv", client.get("/en/audit/trail.csv").status_code, 200 if token == "Y" else 403)
    if action == "delete":
        url = _admin_url(target, obj, "delete")
        # Not in their list (view M): Django asks the role alone, then says the object does not exist.
        wanted = {"Y": 200, "-": LOGIN, "M": 302 if view == "M" else 403}.get(token, 403)
        expect(f"GET {url}", _status(client.get(url)), wanted)
    if action in ITEM_ACTIONS:
        changelist = f"/admin/participation/{ADMIN_MODELS[target]}/"
        data = {"action": ITEM_ACTIONS[action], "_selected_action": [obj.pk], "index": "0"}
        with transaction.atomic():
            before = _changed(world, action, state)
            response = client.post(changelist, data, follow=False)
            after = _changed(world, action, state)
            shown = [str(message) for message in get_messages(response.wsgi_request)]
            transaction.set_rollback(True)
        if token == "Y":
            wanted = 302
        elif token == "-":
            wanted = LOGIN
        elif token == "R":
            wanted = 403 if view == "R" else 200  # no action offered: the list again, or no list at all
        else:
            wanted = 302
        expect(f"POST {ITEM_ACTIONS[action]}", _status(response), wanted)
        expect(f"{ITEM_ACTIONS[action]} applied", after != before, token == "Y")
        if token == "S":
            reason = permissions.refusal(world["people"][kind], ACTIONS[action][0], obj)
            expect("skip message", any(str(reason) in message for message in shown), True)
    return problems


def preview_problems(client, world, action, state, token):
    """A draft's public page answers only to those who may view it; any other state's to everyone."""
    target = ACTIONS[action][1]
    obj = world[(target, state)]
    wanted = 200 if token == "Y" or state != "draft" else 404
    got = client.get(obj.get_absolute_url().replace("/ar/", "/en/", 1)).status_code
    return [] if got == wanted else [f"preview {obj.get_absolute_url()}: got {got}, table says {wanted}"]


def _clients(world):
    made = {}
    for kind, user in world["people"].items():
        client = Client()
        if kind != "anonymous":
            client.force_login(user)
        made[kind] = client
    return made


def test_the_table_covers_every_action_and_state():
    assert set(TABLE) == {(action, state) for action in ACTIONS for state in STATES}
    for (action, state), row in TABLE.items():
        assert len(row.split()) == len(KINDS), (action, state)
        assert set(row.split()) <= set("YRMS-"), (action, state)
        for kind in NOT_SIGNED_IN:
            assert _tokens(action, state)[kind] == "-", (action, state, kind)
    assert {permission for permission, _target in ACTIONS.values()} <= set(permissions.PERMISSIONS)


@pytest.mark.django_db
def test_permissions_admin_and_preview_agree_with_the_table(settings, tmp_path):
    """One test, so the world is built once; each action that writes runs in a savepoint that is rolled back."""
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    clients = _clients(world)
    wrong = []
    for (action, state), _row in TABLE.items():
        for kind, token in _tokens(action, state).items():
            problems = permission_problems(world, action, state, kind, token)
            problems += admin_problems(clients[kind], world, action, state, kind, token)
            if action.startswith("view"):
                problems += preview_problems(clients[kind], world, action, state, token)
            wrong += [f"{action} / {state} / {kind} ({token}): {problem}" for problem in problems]
    assert not wrong, f"{len(wrong)} cells differ from the permission table:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_skipped_rows_are_counted_with_their_reason_in_arabic(client):
    """An action on rows the permission refuses for some: the others are done, the refused counted and explained."""
    world_entity = Entity.objects.create(slug="ministry-x", name_ar="وزارة س", name_en="Ministry X")
    admin = StaffUserFactory()
    admin.groups.add(Group.objects.get(name="Ministry admins"))
    world_entity.members.add(admin)
    drafts = [_item(Poll, f"draft-{n}", world_entity, "draft") for n in range(2)]
    opened = [_item(Poll, f"open-{n}", world_entity, "open") for n in range(3)]
    client.force_login(admin)
    response = client.post(
        "/admin/participation/poll/",
        {"action": "schedule", "_selected_action": [i.pk for i in drafts + opened], "index": "0"},
        headers={"accept-language": "ar"},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("تُركت 3 صفوف" in m for m in shown), shown
    assert all(Item.objects.get(pk=d.pk).state == State.SCHEDULED for d in drafts)
    assert all(Item.objects.get(pk=o.pk).state == State.SCHEDULED for o in opened)  # untouched (open by the clock)


# ---------------------------------------------------------------------------
# The people who take part: Barrier, by person × item state × audience
# ---------------------------------------------------------------------------

PEOPLE = ("anonymous", "unverified", "citizen", "resident", "visitor")
AUDIENCES = {
    "citizens": {"for_citizens": True},
    "residents": {"for_residents": True},
    "visitors": {"for_visitors": True},
    "everyone": {"for_citizens": True, "for_residents": True, "for_visitors": True},
    "everyone, verified": {
        "for_citizens": True,
        "for_residents": True,
        "for_visitors": True,
        "requires_verified_identity": True,
    },
}
BARRIERS = {
    "ok": None,
    "D": Barrier.DRAFT,
    "Y": Barrier.NOT_YET_OPEN,
    "C": Barrier.CLOSED,
    "L": Barrier.NOT_LOGGED_IN,
    "S": Barrier.WRONG_SEGMENT,
    "V": Barrier.NOT_VERIFIED,
}
# Before opening and after closing, the clock answers first, whoever asks.
#                             anon unverified citizen resident visitor
CITIZEN_TABLE = {
    state: {audience: {"draft": "D D D D D", "scheduled": "Y Y Y Y Y"}.get(state) for audience in AUDIENCES}
    for state in ("draft", "scheduled")
} | {
    "open": {
        "citizens": "L ok ok S S",
        "residents": "L S S ok S",
        "visitors": "L S S S ok",
        "everyone": "L ok ok ok ok",
        "everyone, verified": "L V ok ok ok",
    },
    "closed": dict.fromkeys(AUDIENCES, "C C C C C"),
    "published": dict.fromkeys(AUDIENCES, "C C C C C"),
}


def _citizen(kind):
    if kind == "anonymous":
        return AnonymousUser()
    if kind == "unverified":
        return UserFactory(segment=Segment.CITIZEN)
    return VerifiedUserFactory(segment=kind)


@pytest.mark.django_db
def test_who_may_take_part_by_person_state_and_audience():
    entity = Entity.objects.create(slug="ministry-c", name_ar="وزارة ج", name_en="Ministry C")
    people = {kind: _citizen(kind) for kind in PEOPLE}
    wrong = []
    for state, by_audience in CITIZEN_TABLE.items():
        for audience, row in by_audience.items():
            fields = dict.fromkeys(("for_citizens", "for_residents", "for_visitors"), False) | AUDIENCES[audience]
            item = _item(Poll, f"{state}-{audience.replace(', ', '-')}", entity, state, **fields)
            for kind, code in zip(PEOPLE, row.split(), strict=True):
                got = participation_barrier(people[kind], item)
                if got != BARRIERS[code]:
                    wrong.append(f"{kind} / {state} / {audience}: got {got}, table says {BARRIERS[code]}")
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------------------
# Identity verification: the verifiers' role, never on oneself (accounts.decide_verification)
# ---------------------------------------------------------------------------

OWN_IDENTITY = gettext_lazy("Nobody decides on their own identity: another verifier must.")


@pytest.mark.django_db
def test_verifiers_decide_on_other_people_never_on_themselves(client):
    person = UserFactory(segment=Segment.CITIZEN)  # waits for a check
    verifier = UserFactory(segment=Segment.CITIZEN, is_staff=True)  # a verifier who also waits for their own
    verifier.groups.add(Group.objects.get(name="Verifiers"))
    ministry_staff = StaffUserFactory()
    ministry_staff.groups.add(Group.objects.get(name="Ministry staff"))
    superuser = SuperUserFactory(identity_number=f"{CITIZEN_QID_PREFIX}99999", segment=Segment.CITIZEN)  # no factory serial
    decide = "accounts.decide_verification"

    assert permissions.refusal(verifier, decide, person) is None
    assert str(permissions.refusal(verifier, decide, verifier)) == str(OWN_IDENTITY)
    assert str(permissions.refusal(superuser, decide, superuser)) == str(OWN_IDENTITY)  # superusers too
    assert str(permissions.refusal(ministry_staff, decide, person)) == str(permissions.NOT_YOUR_ROLE)
    assert str(permissions.refusal(AnonymousUser(), decide, person)) == str(permissions.NOT_YOUR_ROLE)
    assert verifier.has_perm(decide, person) and not verifier.has_perm(decide, verifier)

    client.force_login(verifier)
    queue = "/admin/accounts/pendingverification/"
    assert client.get(f"{queue}{person.pk}/change/").context["has_change_permission"]
    assert not client.get(f"{queue}{verifier.pk}/change/").context["has_change_permission"]  # read-only
    response = client.post(
        queue, {"action": "approve_selected", "_selected_action": [person.pk, verifier.pk], "index": "0"}, follow=True
    )
    person.refresh_from_db()
    verifier.refresh_from_db()
    assert person.is_verified and not verifier.is_verified
    assert any(str(OWN_IDENTITY) in str(message) for message in response.context["messages"])

    client.force_login(ministry_staff)
    assert client.get(queue).status_code == 403


@pytest.mark.django_db
def test_new_questions_are_offered_only_the_items_the_user_may_change(client):
    """Reading every ministry (an auditor who also writes for B) is not writing every ministry: the item choices
    for a new question are B's drafts, never A's (the "sees all" of the former ItemQuerySet.editable_by)."""
    entities = {key: Entity.objects.create(slug=f"m-{key}", name_ar=key, name_en=key) for key in ("a", "b")}
    auditor_writer = _person("auditor_writer", entities)
    theirs = _item(Poll, "draft-of-a", entities["a"], "draft")
    own = _item(Poll, "draft-of-b", entities["b"], "draft")
    client.force_login(auditor_writer)
    response = client.get("/admin/participation/question/add/")
    offered = set(response.context["adminform"].form.fields["item"].queryset)
    assert offered == {own}, offered
    assert theirs in set(permissions.visible_items(auditor_writer))  # they may read it, all the same
