from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """Look a key up in a dict from a template: {{ selected|get_item:question.pk }}."""
    return (mapping or {}).get(key)


@register.filter
def as_str(value):
    return str(value)
