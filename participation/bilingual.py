"""Content that must exist in Arabic and English: `title_ar`/`title_en` read as `title`."""

from django.utils.translation import get_language


class Bilingual:
    """A read-only attribute that returns the `<name>_ar` or `<name>_en` field for the active language.

    Falls back to the other language when the wanted one is empty (drafts may
    be half-written; published items have both).
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        first, second = ("en", "ar") if (get_language() or "ar").startswith("en") else ("ar", "en")
        return getattr(instance, f"{self.name}_{first}") or getattr(instance, f"{self.name}_{second}")


def current_language():
    return "en" if (get_language() or "ar").startswith("en") else "ar"
