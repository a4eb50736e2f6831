"""The audit checkpoint on public pages: {% load audit_tags %}{% audit_checkpoint as checkpoint %}."""

from django import template

from participation import audit

register = template.Library()


@register.simple_tag
def audit_checkpoint():
    """The published checkpoint (participation.audit.published_checkpoint): chain length and head hash."""
    return audit.published_checkpoint()
