"""The plain-words sentence above a results chart: who won, or the most chosen answer, in the reader's language.

It reads the same dictionaries as the chart (results.live_poll_results and results.snapshot_results), so the
sentence and the bars can never disagree. A referendum's winner is measured against the valid votes (blank
votes left out), as referendums are reported; a poll's answers against the ballots, as its chart shows them.
"""

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext


def _quoted(label):
    return pgettext("quoted answer", "“%(answer)s”") % {"answer": label}


def _listed(labels):
    """“A”, “B” and “C”: the answers that share first place."""
    quoted = [_quoted(label) for label in labels]
    head = pgettext("list separator", ", ").join(quoted[:-1])
    return head + pgettext("list last separator", " and ") + quoted[-1] if head else quoted[-1]


def _percent(part, whole):
    return number_format(round(100 * part / whole, 1), decimal_pos=1) if whole else number_format(0)


def _referendum_sentence(rows):
    answers = [row for row in rows if not row.get("abstain")]
    valid = sum(row["count"] for row in answers)
    if not valid:
        return _("No valid vote was cast: every ballot was blank.") if rows else ""
    top = max(row["count"] for row in answers)
    first = [row for row in answers if row["count"] == top]
    if len(first) > 1:
        return _("No answer came first: %(answers)s received the same number of votes, %(percent)s %% of valid votes each.") % {
            "answers": _listed(row["label"] for row in first),
            "percent": _percent(top, valid),
        }
    values = {
        "answer": _quoted(first[0]["label"]),
        "percent": _percent(top, valid),
        "votes": number_format(top, force_grouping=True),
        "count": number_format(valid, force_grouping=True),
    }
    if 2 * top > valid:
        return ngettext(
            "%(answer)s won with %(percent)s %% of valid votes (%(votes)s of %(count)s valid vote).",
            "%(answer)s won with %(percent)s %% of valid votes (%(votes)s of %(count)s valid votes).",
            valid,
        ) % values
    return ngettext(
        "The most chosen answer is %(answer)s, with %(percent)s %% of valid votes (%(votes)s of %(count)s valid vote), short of a majority.",
        "The most chosen answer is %(answer)s, with %(percent)s %% of valid votes (%(votes)s of %(count)s valid votes), short of a majority.",
        valid,
    ) % values


def _poll_sentence(rows, live):
    answers = [row for row in rows if not row.get("abstain")]
    top = max((row["count"] for row in answers), default=0)
    if not top:
        return _("No answer has been chosen yet.") if live else _("No answer was chosen.")
    first = [row for row in answers if row["count"] == top]
    values = {"answers": _listed(row["label"] for row in first), "answer": _quoted(first[0]["label"]), "percent": number_format(first[0]["percent"], decimal_pos=1)}
    if len(first) > 1:
        if live:
            return _("So far, %(answers)s are chosen equally often (%(percent)s %% of ballots each).") % values
        return _("%(answers)s were chosen equally often (%(percent)s %% of ballots each).") % values
    if live:
        return _("So far, the most chosen answer is %(answer)s (%(percent)s %% of ballots).") % values
    return _("The most chosen answer is %(answer)s (%(percent)s %% of ballots).") % values


def for_results(results, kind):
    """[{"question": text, "sentence": text}] for each question, or [] when there is nothing to sum up."""
    if not results or results.get("counting") or not results.get("ballots"):
        return []
    headlines = []
    for block in results["questions"]:
        if kind == "referendum":
            sentence = _referendum_sentence(block["rows"])
        else:
            sentence = _poll_sentence(block["rows"], results.get("live", False))
        if sentence:
            headlines.append({"question": block["text"], "sentence": sentence})
    return headlines
