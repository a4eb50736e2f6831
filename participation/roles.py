"""The staff roles (groups): what each may do, who holds it near you, and whom to ask for one.

The admin index shows this in both languages, and the item lists say who schedules, closes and publishes
when the person looking cannot. The groups and their permissions are made by migrations (0003_groups,
0014_staff_roles); the wording here describes those permissions in plain words.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import permissions

MINISTRY_STAFF = "Ministry staff"
MINISTRY_ADMINS = "Ministry admins"
MODERATORS = "Moderators"
AUDITORS = "Auditors"
VERIFIERS = "Verifiers"

# Group names are stored in English (permissions refer to them); people read them in their language.
ROLE_NAMES = {
    MINISTRY_STAFF: pgettext_lazy("staff role", "Ministry staff"),
    MINISTRY_ADMINS: pgettext_lazy("staff role", "Ministry admins"),
    MODERATORS: pgettext_lazy("staff role", "Moderators"),
    AUDITORS: pgettext_lazy("staff role", "Auditors"),
    VERIFIERS: pgettext_lazy("staff role", "Verifiers"),
}

ROLE_DUTIES = {
    MINISTRY_STAFF: _(
        "Write drafts of your ministry's polls, referendums and consultations, with their questions and options, "
        "and correct items that have opened. Cannot schedule, close or publish."
    ),
    MINISTRY_ADMINS: _(
        "Everything ministry staff do, and: schedule items (they then open and close by their dates), close them "
        "early, publish results and outcomes, delete drafts."
    ),
    MODERATORS: _("Read the comments on your ministry's consultations, publish them, or hide them with a reason."),
    AUDITORS: _("Read every ministry's items, comments, results and audit trail. Cannot change anything."),
    VERIFIERS: _("Check people's identity in the verification queue: approve, or reject with a reason."),
}

# How many holders the index names per role; the rest are counted.
NAMES_SHOWN = 5


@dataclass
class Role:
    name: str
    duties: str
    held: bool
    holders: list
    more: int


def role_name(group_name):
    return ROLE_NAMES.get(group_name, group_name)


def holders_near(user, group):
    """Active holders of the role in the entities the user may read (every entity for superusers and auditors)."""
    people = group.user_set.filter(is_active=True, is_staff=True).filter(permissions.entity_scope(user, "entities"))
    return people.distinct().order_by("full_name", "email")


def portal_administrators():
    """Whom to ask for a role: the portal administrators (superusers), who give roles in the admin."""
    return get_user_model().objects.filter(is_active=True, is_superuser=True).order_by("full_name", "email")


def roles_for(user):
    """Every role that exists, described, with whether the user holds it and who holds it near them."""
    held = set(user.groups.values_list("pk", flat=True))
    roles = []
    for group in Group.objects.filter(name__in=ROLE_DUTIES).order_by("name"):
        people = holders_near(user, group)
        shown = list(people[:NAMES_SHOWN])
        roles.append(
            Role(
                name=role_name(group.name),
                duties=ROLE_DUTIES[group.name],
                held=user.is_superuser or group.pk in held,
                holders=shown,
                more=max(people.count() - len(shown), 0),
            )
        )
    return roles


def schedulers_near(user):
    """Who may schedule, close and publish the user's items: their entities' ministry admins."""
    group = Group.objects.filter(name=MINISTRY_ADMINS).first()
    return list(holders_near(user, group)[:NAMES_SHOWN]) if group else []
