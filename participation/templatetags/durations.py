"""Time left, in words that agree with their numbers: "أسبوع واحد و4 أيام", "يومان", "11 ساعة".

Django's ``timeuntil`` writes "1 أسبوع، 4 أيام" in Arabic: its units are translated one by one with
digits in every form. Here every unit is an ngettext message of our own catalogue, whose six Arabic
forms say one and two with the noun alone ("أسبوع واحد", "أسبوعين") and give 3–10, 11–99 and
100+ their own noun forms, and two units are joined with "و", as Arabic joins them.

The Arabic forms are written for the phrase that uses them, "يُغلق بعد %(left)s": after the
preposition the dual is genitive ("بعد يومين").
"""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext, ngettext

register = template.Library()

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY


def _unit(seconds_in_unit, count):
    """One unit in words, e.g. "4 أيام"; count is at least 1."""
    if seconds_in_unit == WEEK:
        text = ngettext("%(count)d week", "%(count)d weeks", count)
    elif seconds_in_unit == DAY:
        text = ngettext("%(count)d day", "%(count)d days", count)
    elif seconds_in_unit == HOUR:
        text = ngettext("%(count)d hour", "%(count)d hours", count)
    else:
        text = ngettext("%(count)d minute", "%(count)d minutes", count)
    return text % {"count": count}


def time_left(when: datetime, now: datetime | None = None) -> str:
    """How long until ``when``, in at most two adjacent units (weeks and days, days and hours, ...).

    Like Django's timeuntil it rounds down and drops a second unit that is zero ("2 weeks", not
    "2 weeks and 0 days"); under a minute, or in the past, it says "less than a minute".
    """
    now = now or timezone.now()
    seconds = int((when - now).total_seconds())
    units = (WEEK, DAY, HOUR, MINUTE)
    for index, size in enumerate(units):
        if seconds >= size:
            first = seconds // size
            parts = [_unit(size, first)]
            if index + 1 < len(units):
                following = units[index + 1]
                second = (seconds - first * size) // following
                if second:
                    parts.append(_unit(following, second))
            if len(parts) == 1:
                return parts[0]
            return gettext("%(first)s and %(second)s") % {"first": parts[0], "second": parts[1]}
    return gettext("less than a minute")


@register.filter
def timeleft(value):
    """{{ item.closes_at|timeleft }}: the time left until a datetime, number agreement included."""
    if not value:
        return ""
    return time_left(value)
