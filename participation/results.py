"""Counting ballots in the database (GROUP BY), never by loading them into Python."""

from django.db.models import Count
from django.utils.translation import gettext as _

from .models import PollAnswer


def _percent(part, whole):
    return round(100 * part / whole, 1) if whole else 0.0


def poll_results(item, questions):
    """Per question: each option's count (per option, not per combination), "no opinion", and share."""
    total_ballots = item.poll_ballots.count()
    counts = {
        (row["question_id"], row["option_id"]): row["n"]
        for row in PollAnswer.objects.filter(ballot__item=item).values("question_id", "option_id").annotate(n=Count("id"))
    }
    result = []
    for question in questions:
        rows = [
            {"label": option.text, "count": counts.get((question.pk, option.pk), 0)} for option in question.options.all()
        ]
        if question.allow_abstain:
            rows.append({"label": _("No opinion"), "count": counts.get((question.pk, None), 0), "abstain": True})
        for row in rows:
            row["percent"] = _percent(row["count"], total_ballots)
        result.append({"question": question, "rows": rows})
    return {"ballots": total_ballots, "questions": result}


def referendum_results(item, question):
    """Per option (and blank) counts of a referendum. Shown only once results are published."""
    counts = dict(
        item.referendum_ballots.order_by().values("option_id").annotate(n=Count("id")).values_list("option_id", "n")
    )
    total = sum(counts.values())
    rows = [{"label": option.text, "count": counts.get(option.pk, 0)} for option in question.options.all()]
    if question.allow_abstain:
        rows.append({"label": _("Blank vote"), "count": counts.get(None, 0), "abstain": True})
    for row in rows:
        row["percent"] = _percent(row["count"], total)
    return {"ballots": total, "questions": [{"question": question, "rows": rows}]}
