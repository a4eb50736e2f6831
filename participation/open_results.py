"""The open record of a published referendum: every ballot, and the result, for anyone to check.

Anyone, without an account, may download the ballots (the auditors' ballots.csv, byte for byte)
and the result as JSON, and check one against the other on their own machine with the standalone
verifier (static/verify/verify_referendum.py, docs/exports.md). Both read only what is stored:
the plaintext ballots, the immutable Result and the tally's audit entry; nothing here tallies.
Only a PUBLISHED referendum has them (404 before that, for drafts, polls and consultations):
receipts and counts are not public until the results are.
"""

from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from . import exports, verification
from .models import Item, Kind, Result, State

RESULT_FORMAT = "hukoomi-referendum-result/1"


def _published_referendum(slug):
    """The published referendum and its stored result; 404 for anything else."""
    item = get_object_or_404(Item.objects.all(), kind=Kind.REFERENDUM, slug=slug, state=State.PUBLISHED)
    result = Result.objects.filter(item=item).first()
    if result is None:
        raise Http404
    return item, result


def result_document(item, result):
    """The result as the standalone verifier reads it (docs/exports.md, "result.json").

    Labels are the options' texts as the ballots CSV writes them (blank vote included); votes are
    the stored Result's. `audit` is the tally's entry on the trail (None for results counted before
    tallies were recorded there): its position in the chain and its hash make a checkpoint.
    """
    question = result.counts["questions"][0]
    texts = {option.position: (option.text_ar, option.text_en) for option in item.questions.get(position=question["position"]).options.all()}
    texts[0] = exports.ABSTAIN_LABELS[Kind.REFERENDUM]
    entry = verification.tally_entry(item)
    return {
        "format": RESULT_FORMAT,
        "item": {"type": item.kind, "slug": item.slug, "title_ar": item.title_ar, "title_en": item.title_en},
        "question": {"position": question["position"], "ar": question["ar"], "en": question["en"]},
        "options": [
            {"position": option["position"], "ar": texts[option["position"]][0], "en": texts[option["position"]][1], "votes": option["votes"]}
            for option in question["options"]
        ],
        "ballots": result.ballots,
        "eligible": result.eligible,
        "ballots_digest": result.ballots_digest,
        "tallied_at": timezone.localtime(result.tallied_at).isoformat(),
        "columns": exports.BALLOTS_HEADER,
        "audit": None
        if entry is None
        else {
            "position": verification.chain_position(entry),
            "entry_hash": entry.entry_hash,
            "recorded_at": timezone.localtime(entry.created_at).isoformat(),
        },
    }


def ballots_csv(request, slug):
    """Every ballot of a published referendum: the same file as the auditors' ballots export."""
    item, _result = _published_referendum(slug)
    response = StreamingHttpResponse(
        exports.ballots_chunks(item), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{item.kind}-{item.slug}-ballots.csv"'
    return response


def result_json(request, slug):
    """The stored result of a published referendum, with its place on the audit trail."""
    item, result = _published_referendum(slug)
    response = JsonResponse(result_document(item, result), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'inline; filename="{item.kind}-{item.slug}-result.json"'
    return response
