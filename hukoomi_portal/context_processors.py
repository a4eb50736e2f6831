from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info

from participation import feedback
from participation.forms import FeedbackReasonForm


def portal(request):
    """Language switch links and the feedback widget's state for every page."""
    current = get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path()
    switch = [
        {"code": code, "name": get_language_info(code)["name_local"], "url": translate_url(path, code), "current": code == current}
        for code, _name in settings.LANGUAGES
    ]
    state = None
    try:
        language, normalised = feedback.normalise_path(request.path)
    except feedback.FeedbackRefused:
        show_widget = False
    else:
        show_widget = True
        state = feedback.page_state(request.session, language, normalised) if hasattr(request, "session") else None
    return {
        "language_switch": switch,
        "show_feedback": show_widget,
        "feedback_state": state,
        "feedback_path": request.path,
        "reason_form": FeedbackReasonForm() if state == "reason" else None,
    }
