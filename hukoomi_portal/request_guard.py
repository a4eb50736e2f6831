"""A 400 page in the page's language for requests the portal cannot read, before any view or query runs.

Django reads undecodable bytes as U+FFFD and lets NUL through; PostgreSQL refuses a NUL in any text
comparison, so a NUL that reaches a query is a 500. Forms and views validate what they use (that is the
first line); this guard answers the same way everywhere, so that a parameter nobody thought of, or a
cookie, cannot carry a NUL to the database:

- a query string or form body that is not UTF-8, or a path, query string or form body that holds a NUL,
  is refused with a 400;
- a cookie holding a control character is dropped (we never set one): a session cookie with a NUL
  would otherwise make every page a 500 until it expires.

It sits before SessionMiddleware (so that the session never sees a bad cookie) and so activates the
page's language itself, for its own refusal and for Django's 400 on an oversized body.
"""

from urllib.parse import unquote_to_bytes

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from participation.validators import breaks_a_line

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MULTIPART_CONTENT_TYPE = "multipart/form-data"


def readable(raw):
    """True when bytes decode as UTF-8 without a NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def readable_form(raw):
    """The same for percent-encoded form data (a query string or an urlencoded body)."""
    return readable(unquote_to_bytes(raw.replace(b"+", b" ")))


def _wsgi_bytes(request, key):
    # WSGI hands the query string over as latin-1 text standing for the raw bytes.
    return request.META.get(key, "").encode("latin-1", errors="replace")


def unreadable(request):
    """True when the path, query string or form data cannot be read as text the portal accepts."""
    # Django already keeps undecodable bytes of the path percent-encoded (they match no URL: a 404).
    if "\x00" in request.path_info or not readable_form(_wsgi_bytes(request, "QUERY_STRING")):
        return True
    if request.method != "POST":
        return False
    content_type = request.content_type or ""
    if content_type == FORM_CONTENT_TYPE:
        return not readable_form(request.body)
    if content_type == MULTIPART_CONTENT_TYPE:
        return any("\x00" in part for key, values in request.POST.lists() for part in (key, *values))
    return False


def drop_unreadable_cookies(request):
    for name in [name for name, value in request.COOKIES.items() if breaks_a_line(name) or breaks_a_line(value)]:
        del request.COOKIES[name]


def page_language(request):
    return translation.get_language_from_path(request.path_info) or translation.get_language_from_request(request)


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        drop_unreadable_cookies(request)
        translation.activate(page_language(request))
        request.LANGUAGE_CODE = translation.get_language()
        if unreadable(request):
            return self.refuse(request)
        return self.get_response(request)

    def refuse(self, request):
        message = _(
            "The address or the form contained characters that cannot be read, such as invisible control "
            "characters. Go back, check what you typed and try again."
        )
        if request.path_info.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=400)  # the API's own shape of a refusal
        elif "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": message}, status=400)
        else:
            response = render(request, "error.html", {"title": _("Bad request"), "message": message}, status=400)
        response.headers["Content-Language"] = request.LANGUAGE_CODE
        return response
