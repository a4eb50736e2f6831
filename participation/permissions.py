"""What a member of staff may do, to which item, and if not, why: the one authority.

`Barrier` (rules.py) answers the same question for the people who take part; this module answers it for
staff. Three things decide, always composed in the same order:

1. the role: a staff group gives Django model permissions (migrations 0003_groups, 0006_audit_append_only_and_auditors,
   0014_staff_roles and accounts 0004_oidc_verification), read here as capabilities of an active account. On an
   item, the permission of its kind is asked (view_poll, change_consultation ...), as the admin's pages do;
2. the ministry: staff act on their own entities' items only; superusers, and for reading only the
   holders of view_all_entities (auditors), on every entity's;
3. the item's state by the clock: only drafts are scheduled or deleted, only opened items closed, and so on.

Each permission is a list of checks with the message a person reads when one fails. They are registered
with django-rules, so `user.has_perm("participation.schedule_item", item)` answers from here, except that
Django says yes to active superusers before asking: `allows()` is the same answer without that exception (the
state binds superusers too), and services call `require()`, which raises NotPermitted with the first failing
check's message. Without an object a permission asks the role alone: "may this person do this to some item?".
The querysets at the bottom list what `view_item` and `change_item` allow.

Who asks here, and how:
- the admin (participation/admin.py, accounts/admin.py): querysets from `visible_items`, `visible_entities`,
  `own_entities`, `changeable_items` and `entity_scope`; object checks with `allows(user, name, obj)` (has_perm
  but for superusers, see `allows`); actions apply only to the chosen rows the permission allows and say why the
  others were skipped (`refusal`);
- the preview of a draft (views._get_item) and its document (attachments.py): `view_item`;
- the auditors' pages (audit_views.py): `export_results`, `view_auditentry` and `entity_scope`;
- the role descriptions (roles.py): `entity_scope`;
- the services: `require(actor, name, obj)`.
tests/test_permission_table.py checks, row by row, that this module, the admin and the preview agree.
"""

from dataclasses import dataclass

import rules
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import NotPermitted
from .models import AuditEntry, Comment, Entity, Item, Kind, State, content_frozen

_roles = ModelBackend()


def _entity_of(obj):
    if obj is None or isinstance(obj, Entity):
        return obj
    if isinstance(obj, Item):
        return obj.entity
    if isinstance(obj, Comment):
        return obj.item.entity
    if isinstance(obj, AuditEntry):
        return obj.entity
    item = getattr(obj, "item", None)
    return item.entity if item is not None else None


def _item_of(obj):
    if obj is None or isinstance(obj, Item):
        return obj
    return getattr(obj, "item", None)


# -- predicates ---------------------------------------------------------------


def _holds(user, permission):
    # What Django's ModelBackend answers (active accounts only), so that `has_perm(name)` without an object, which
    # Django also asks that backend, says the same as this module. The admin itself lets in is_staff accounts only.
    return bool(user.is_active and _roles.has_perm(user, permission))


def holds(permission):
    """The role gives this Django permission (superusers hold every one). Active accounts only."""

    @rules.predicate(name=f"holds {permission}")
    def predicate(user):
        return _holds(user, permission)

    return predicate


def _kinds_held(user, actions):
    return [kind for kind in Kind.values if any(_holds(user, f"participation.{a}_{kind}") for a in actions)]


def holds_on_kind(*actions):
    """The role gives one of these Django permissions on the item's kind: view_poll, change_consultation ...

    The admin's pages of polls, referendums and consultations ask their own model's permission, so this is what
    makes a moderator (view_consultation, not view_poll) preview the consultations they see in the admin and not
    the polls they do not. Without an item: the permission on items in general (view_item, change_item ...).
    """

    @rules.predicate(name=f"holds {' or '.join(actions)} on the item's kind")
    def predicate(user, obj):
        item = _item_of(obj)
        model = item.kind if item is not None and item.kind else "item"
        return any(_holds(user, f"participation.{action}_{model}") for action in actions)

    return predicate


sees_every_entity = holds("participation.view_all_entities")


@rules.predicate
def is_superuser(user):
    return bool(user.is_active and user.is_superuser)


@rules.predicate
def member_of_entity(user, obj):
    """Staff of the object's ministry. Without an object: true (the role alone is asked)."""
    if obj is None:
        return True
    entity = _entity_of(obj)
    return entity is not None and entity.pk in _entity_ids(user)


def _entity_ids(user):
    """The ids of the user's entities, read once per user object (as ModelBackend caches permissions):
    an admin list asks about every row, and a request loads its user afresh."""
    if not hasattr(user, "_portal_entity_ids"):
        user._portal_entity_ids = frozenset(user.entities.values_list("pk", flat=True)) if user.pk else frozenset()
    return user._portal_entity_ids


@rules.predicate
def is_someone_else(user, obj):
    """The object is not the user's own account (nobody decides on their own identity). Without an object: true."""
    return obj is None or obj.pk != user.pk


@rules.predicate
def is_draft(user, obj):
    item = _item_of(obj)
    return item is None or item.state == State.DRAFT


@rules.predicate
def has_opened(user, obj):
    item = _item_of(obj)
    return item is None or item.current_state(timezone.now()) not in (State.DRAFT, State.SCHEDULED)


@rules.predicate
def is_live(user, obj):
    item = _item_of(obj)
    return item is None or item.state in (State.SCHEDULED, State.OPEN)


@rules.predicate
def has_closed(user, obj):
    item = _item_of(obj)
    return item is None or item.has_closed(timezone.now())


@rules.predicate
def not_published(user, obj):
    item = _item_of(obj)
    return item is None or item.state != State.PUBLISHED


@rules.predicate
def is_frozen(user, obj):
    item = _item_of(obj)
    return item is None or content_frozen(item)


own_entity = is_superuser | member_of_entity
any_entity = sees_every_entity | member_of_entity


# -- permissions --------------------------------------------------------------

NOT_YOUR_ROLE = _("Your role does not allow this. Ask a portal administrator for the role that does.")
NOT_YOUR_ENTITY = _("This item belongs to another ministry.")


@dataclass(frozen=True)
class Permission:
    """All checks must pass; the first that fails gives its message."""

    checks: tuple

    @property
    def predicate(self):
        combined = rules.always_allow
        for check, _message in self.checks:
            combined &= check
        return combined

    def refusal(self, user, obj):
        for check, message in self.checks:
            if not check.test(user, obj):
                return message
        return None


PERMISSIONS = {
    # Read an item in the admin, and preview it (and its document) on the site while it is a draft.
    "participation.view_item": Permission(
        ((holds_on_kind("view", "change"), NOT_YOUR_ROLE), (any_entity, NOT_YOUR_ENTITY))
    ),
    # Change an item (and its questions, options and sections while they are not frozen). Never "any_entity":
    # seeing every ministry's items (auditors) is not writing them.
    "participation.change_item": Permission(((holds_on_kind("change"), NOT_YOUR_ROLE), (own_entity, NOT_YOUR_ENTITY))),
    "participation.delete_item": Permission(
        (
            (holds_on_kind("delete"), NOT_YOUR_ROLE),
            (own_entity, NOT_YOUR_ENTITY),
            (is_draft, _("Only drafts can be deleted: people may have seen the others.")),
        )
    ),
    "participation.schedule_item": Permission(
        (
            (holds("participation.schedule_item"), NOT_YOUR_ROLE),
            (own_entity, NOT_YOUR_ENTITY),
            (is_draft, _("Only drafts can be scheduled.")),
        )
    ),
    "participation.close_item": Permission(
        (
            (holds("participation.schedule_item"), NOT_YOUR_ROLE),
            (own_entity, NOT_YOUR_ENTITY),
            (is_live, _("This item is not open.")),
            (has_opened, _("This item has not opened yet, so it cannot be closed.")),
        )
    ),
    "participation.publish_item": Permission(
        (
            (holds("participation.schedule_item"), NOT_YOUR_ROLE),
            (own_entity, NOT_YOUR_ENTITY),
            (has_closed, _("Results can be published only after the item has closed.")),
            (not_published, _("The results are already published.")),
        )
    ),
    "participation.correct_item": Permission(
        (
            (holds("participation.change_item"), NOT_YOUR_ROLE),
            (own_entity, NOT_YOUR_ENTITY),
            (is_frozen, _("This item has not opened yet: correct the item itself instead of adding a correction.")),
        )
    ),
    "participation.moderate_comment": Permission(
        ((holds("participation.moderate_comment"), NOT_YOUR_ROLE), (own_entity, NOT_YOUR_ENTITY))
    ),
    "participation.export_results": Permission(((holds("participation.export_results"), NOT_YOUR_ROLE),)),
    "participation.view_auditentry": Permission(
        ((holds("participation.view_auditentry"), NOT_YOUR_ROLE), (any_entity, NOT_YOUR_ENTITY))
    ),
    # The verifiers' queue (accounts/admin.py): approve or turn down a person's identity number.
    "accounts.decide_verification": Permission(
        (
            (holds("accounts.change_pendingverification"), NOT_YOUR_ROLE),
            (is_someone_else, _("Nobody decides on their own identity: another verifier must.")),
        )
    ),
}

for _name, _permission in PERMISSIONS.items():
    rules.set_perm(_name, _permission.predicate)


def refusal(user, permission, obj=None):
    """Why the user may not do this (a translated message), or None when they may."""
    return PERMISSIONS[permission].refusal(user, obj)


def allows(user, permission, obj=None):
    """True when the user may do this to obj. What the admin asks, object by object.

    The same answer as `user.has_perm(permission, obj)`, except for active superusers: Django answers True for
    them before asking any backend, and the item's state (only drafts are deleted, only closed items published)
    binds superusers too.
    """
    return refusal(user, permission, obj) is None


def require(user, permission, obj=None):
    """Raise NotPermitted, with the reason, unless the user may do this to obj."""
    message = refusal(user, permission, obj)
    if message is not None:
        raise NotPermitted(message)


# -- what lists show ----------------------------------------------------------


def visible_items(user, queryset=None):
    """The items `view_item` allows the user, as a queryset (admin lists, comments, results)."""
    queryset = Item.objects.all() if queryset is None else queryset
    kinds = _kinds_held(user, ("view", "change"))
    if not kinds:
        return queryset.none()
    queryset = queryset.filter(kind__in=kinds)
    if sees_every_entity.test(user):
        return queryset
    return queryset.filter(entity__members=user)


def changeable_items(user, queryset=None):
    """The items `change_item` allows the user, whatever their state (choices for a new question)."""
    queryset = Item.objects.all() if queryset is None else queryset
    kinds = _kinds_held(user, ("change",))
    if not kinds:
        return queryset.none()
    queryset = queryset.filter(kind__in=kinds)
    if is_superuser.test(user):
        return queryset
    return queryset.filter(entity__members=user)


def visible_entities(user, queryset=None):
    """The entities whose items the user may read (every one for superusers and auditors)."""
    queryset = Entity.objects.all() if queryset is None else queryset
    if sees_every_entity.test(user):
        return queryset
    return queryset.filter(members=user)


def own_entities(user, queryset=None):
    """The entities whose items the user may create and change."""
    queryset = Entity.objects.all() if queryset is None else queryset
    if is_superuser.test(user):
        return queryset
    return queryset.filter(members=user)


def entity_scope(user, field="entity"):
    """A Q for rows filed under an entity the user may read (audit entries, results, comments)."""
    if sees_every_entity.test(user):
        return Q()
    return Q(**{f"{field}__members": user})
