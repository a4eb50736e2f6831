"""People: citizens, residents and visitors, and staff of each role in their ministries.

Staff get their role the way the portal gives it, by a group whose permissions the migrations made
(0003_groups, 0014_staff_roles, accounts 0004_oidc_verification). Transactional tests (the browser ones)
end with `flush`, which empties the groups too: the permissions of each group are remembered once the
test database is migrated (`remember_roles`, called from tests/conftest.py) and a missing group is made
again from them.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.models import Segment, User
from participation.roles import AUDITORS, MINISTRY_ADMINS, MINISTRY_STAFF, MODERATORS, VERIFIERS
from tests.factories import StaffUserFactory, SuperUserFactory, UserFactory, VerifiedUserFactory

__all__ = [
    "ANONYMOUS",
    "AUDITORS",
    "CITIZEN",
    "MINISTRY_ADMINS",
    "MAY_EXPORT",
    "MINISTRY_STAFF",
    "MODERATORS",
    "ROLES",
    "SUPERUSER",
    "VERIFIERS",
    "auditor",
    "people",
    "person",
    "remember_roles",
    "role_group",
    "make_staff",
    "user_for_role",
]

ANONYMOUS = "anonymous"
CITIZEN = "citizen"
SUPERUSER = "superuser"
# The rows of the auditors' permission matrix, from no one to the superuser.
ROLES = (ANONYMOUS, CITIZEN, MINISTRY_STAFF, MINISTRY_ADMINS, MODERATORS, AUDITORS, SUPERUSER)
MAY_EXPORT = {AUDITORS, SUPERUSER}

_role_permissions = {}  # group name -> [(app label, codename)], as the migrations left them


def remember_roles():
    """Note each group's permissions as the migrations made them (call once, on the freshly migrated database)."""
    for group in Group.objects.prefetch_related("permissions__content_type"):
        _role_permissions[group.name] = [(p.content_type.app_label, p.codename) for p in group.permissions.all()]


def role_group(role):
    """The group of a staff role; made again, with the migrations' permissions, if a flush emptied it."""
    group = Group.objects.filter(name=role).first()
    if group is not None:
        return group
    if role not in _role_permissions:
        raise LookupError(f"No group {role!r}: the migrations make it, and remember_roles() had not seen it.")
    group = Group.objects.create(name=role)
    wanted = Q()
    for app_label, codename in _role_permissions[role]:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def person(segment=Segment.CITIZEN, *, verified=False, **fields):
    """Someone who signed up (citizen by default), identity checked by staff if `verified`."""
    factory = VerifiedUserFactory if verified else UserFactory
    return factory(segment=segment, **fields)


def people(count, segment=Segment.CITIZEN, **fields):
    return [person(segment, **fields) for _ in range(count)]


def make_staff(role, *entities, **fields):
    """A member of staff holding `role` (a group name, or several) in the given ministries."""
    user = StaffUserFactory(**fields)
    roles = [role] if isinstance(role, str) else list(role)
    user.groups.add(*(role_group(name) for name in roles))
    for entity in entities:
        entity.members.add(user)
    return user


def auditor(email="auditor@audit.example.qa", **fields):
    """The auditor (the same person however often asked for): member of no ministry."""
    return User.objects.filter(email=email).first() or make_staff(AUDITORS, email=email, **fields)


def user_for_role(role, *entities):
    """The person of one row of ROLES (None for anonymous). Staff belong to `entities`."""
    if role == ANONYMOUS:
        return None
    if role == CITIZEN:
        return person(Segment.VISITOR, verified=True)  # visitors are not eligible: tallies stay unchanged
    if role == SUPERUSER:
        return SuperUserFactory()
    return make_staff(role, *entities)
