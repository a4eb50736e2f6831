"""What a tally leaves on the audit trail, and how a stored result is compared with it.

The Result row is what pages and exports show; the tally's audit entry (action "tally") holds the
same numbers, written in the same transaction. A Result changed afterwards, even by someone who
dropped its immutability trigger, no longer matches its entry (verify_export says so), and the
entry itself is bound into the hash chain (verify_audit_log).
"""

from .models import AuditEntry


def counts_by_position(result):
    """{question position: {option position: votes}} from a stored result, as strings (JSON keys).

    Positions, not ids: they are what the ballots CSV holds, so a file can be compared with them.
    Option 0 is "no opinion" (polls) or a blank vote (referendums).
    """
    return {
        str(question["position"]): {str(option["position"]): option["votes"] for option in question["options"]}
        for question in result.counts["questions"]
    }


def tally_details(result):
    """The details of a tally's audit entry: counts per option, ballots, eligible and the ballots digest."""
    return {
        "ballots": result.ballots,
        "eligible": result.eligible,
        "ballots_digest": result.ballots_digest,
        "counts": counts_by_position(result),
    }


def tally_entry(item):
    """The audit entry recorded when `item` was counted, or None (results counted before the trail held tallies)."""
    return (
        AuditEntry.objects.filter(action=AuditEntry.Action.TALLY, object_type="participation.item", object_id=str(item.pk))
        .order_by("pk")
        .first()
    )


def chain_position(entry):
    """The entry's position in the chain, counting from 1: with its entry_hash, a checkpoint COUNT:HASH."""
    return AuditEntry.objects.filter(pk__lte=entry.pk).count()


def result_disagreements(result, entry):
    """What differs between a stored result and its tally entry, as (what, stored, on the trail) triples."""
    if entry is None:
        return [("tally entry", "present in the result", "missing from the audit trail")]
    recorded = entry.details
    stored = tally_details(result)
    return [(key, stored[key], recorded.get(key)) for key in ("ballots", "eligible", "ballots_digest", "counts") if stored[key] != recorded.get(key)]
