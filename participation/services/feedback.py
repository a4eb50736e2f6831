"""Page feedback's writes: a Yes/No answer per page and session, and the optional reason for a "No".

participation/feedback.py normalises the page and counts answers for the throttle; this module stores.
"""

import time

from django.utils.translation import gettext as _

from .. import feedback
from ..models import PageFeedback


def record_answer(session, raw_path, is_easy, now=None, client=None):
    """Store a Yes/No answer for a page, at most once per page and session.

    At most THROTTLE_MAX_ANSWERS per session and CLIENT_MAX_ANSWERS per `client` (client_key) in their
    windows (participation/feedback.py); refused answers of a client count too, so a script that keeps posting stays refused.
    """
    now = now or time.time()
    language, path = feedback.normalise_path(raw_path)
    state = feedback.session_state(session)
    key = f"{language}:{path}"
    if key in state["pages"]:
        raise feedback.FeedbackRefused(_("You have already answered for this page. Thank you."), status=409)
    recent = [t for t in state["log"] if now - t < feedback.THROTTLE_WINDOW_SECONDS]
    # The session's limit first: a client is counted (count_for_client) only when the session is not over it.
    if len(recent) >= feedback.THROTTLE_MAX_ANSWERS or (
        client is not None and feedback.count_for_client(client, now) > feedback.CLIENT_MAX_ANSWERS
    ):
        raise feedback.FeedbackRefused(
            _("Too many answers in a short time. Please try again in a few minutes."), status=429
        )
    answer = PageFeedback.objects.create(path=path, language=language, is_easy=is_easy)
    state["log"] = [*recent, now]
    state["pages"][key] = {"state": "thanks" if is_easy else "reason", "id": answer.pk, "at": now}
    session.modified = True
    return answer


def record_reason(session, raw_path, reason, reason_text, now=None):
    """Add the optional reason to this session's own "No" answer for the page."""
    now = now or time.time()
    language, path = feedback.normalise_path(raw_path)
    entry = feedback.session_state(session)["pages"].get(f"{language}:{path}")
    if not entry or entry["state"] != "reason" or now - entry["at"] > feedback.REASON_WINDOW_SECONDS:
        raise feedback.FeedbackRefused(_("Answer “No” first; then you can tell us why."), status=409)
    PageFeedback.objects.filter(pk=entry["id"], is_easy=False).update(reason=reason, reason_text=reason_text)
    entry["state"] = "thanks"
    session.modified = True
