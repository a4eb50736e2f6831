from django import template

from participation import roles

register = template.Library()


@register.inclusion_tag("admin/includes/staff_roles.html", takes_context=True)
def staff_roles(context):
    """The roles panel of the admin index (participation/roles.py says what goes in it)."""
    user = context["request"].user
    return {"roles": roles.roles_for(user), "administrators": roles.portal_administrators()[: roles.NAMES_SHOWN]}
