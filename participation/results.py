"""What results pages show: live counts of an open poll, or the stored Result snapshot."""

from django.db.models import Count
from django.utils.translation import gettext as _

from accounts.models import Persona, Segment

from .bilingual import current_language
from .models import PollAnswer


def _percent(part, whole):
    return round(100 * part / whole, 1) if whole else 0.0


def live_poll_results(item, questions):
    """Running counts of an open poll with live results: per option (not per combination) and "no opinion"."""
    total_ballots = item.poll_ballots.count()
    counts = {
        (row["question_id"], row["option_id"]): row["n"]
        for row in PollAnswer.objects.filter(ballot__item=item)
        .order_by()
        .values("question_id", "option_id")
        .annotate(n=Count("id"))
    }
    blocks = []
    for question in questions:
        rows = [
            {"label": option.text, "count": counts.get((question.pk, option.pk), 0)} for option in question.options.all()
        ]
        if question.allow_abstain:
            rows.append({"label": _("No opinion"), "count": counts.get((question.pk, None), 0), "abstain": True})
        for row in rows:
            row["percent"] = _percent(row["count"], total_ballots)
        blocks.append({"text": question.text, "rows": rows})
    return {"ballots": total_ballots, "questions": blocks, "live": True}


def _abstain_label(kind):
    return _("Blank vote") if kind == "referendum" else _("No opinion")


def snapshot_results(result):
    """The stored Result in the reader's language, with the segment (and persona) breakdown as tables.

    A referendum's hidden cells (None) stay None: see tally.referendum_breakdown for what hides them.
    """
    counts = result.counts
    lang = current_language()
    kind = counts["kind"]
    blocks = []
    breakdown = counts.get("breakdown", {})
    segment_cells = breakdown.get("segment", {})
    persona_cells = breakdown.get("persona", {})
    segments = [s for s in Segment if s.value in segment_cells or s.value in breakdown.get("segment_ballots", {})]
    personas = [p for p in Persona if p.value in persona_cells]
    for question in counts["questions"]:
        rows = []
        for option in question["options"]:
            key = f"{question['id']}:{option['id'] or 0}"
            rows.append(
                {
                    "label": _abstain_label(kind) if option.get("abstain") else option[lang] or option["ar"],
                    "count": option["votes"],
                    "percent": option["percent"],
                    "abstain": option.get("abstain", False),
                    "segments": [segment_cells.get(s.value, {}).get(key, 0 if kind == "poll" else None) for s in segments],
                    "personas": [persona_cells.get(p.value, {}).get(key, 0) for p in personas],
                }
            )
        blocks.append({"text": question[lang] or question["ar"], "rows": rows, "multiple": question.get("multiple")})
    segment_ballots = breakdown.get("segment_ballots", {})
    return {
        "ballots": result.ballots,
        "eligible": result.eligible,
        "turnout": result.turnout_percent,
        "tallied_at": result.tallied_at,
        "digest": result.ballots_digest,
        "questions": blocks,
        "segments": segments,
        "personas": personas,
        "small_cell": breakdown.get("small_cell"),
        # Referendums publish the ballots of each segment (the participation register gives them anyway) and
        # say when small numbers are shown because the totals already fix them.
        "segment_ballots": [segment_ballots.get(s.value) for s in segments] if kind == "referendum" else None,
        "shown_by_totals": any(breakdown.get("determined", {}).values()),
        "live": False,
    }
