"""Per-item data that every item page and every vote reads, from the shared cache where it cannot go stale.

- Questions with their options: cached only once the item's content is frozen (models.content_frozen; from then
  on the database's triggers refuse every change to them, migration 0012), so no invalidation is needed.
  Drafts and scheduled items are always read from the database: staff are still editing them.
- Corrections: published after the opening by services/consultation.publish_correction, so the cached list is dropped
  whenever a correction is saved or deleted (the receivers below).

Nothing about a visitor or a voter is ever cached here: only what every visitor of the page sees. With Redis
down (resilience.DegradingRedisCache) every read falls through to the database.
"""

from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import ItemCorrection, content_frozen

TIMEOUT = 60 * 60
# The database's clock decides when content freezes; allow for a web server whose clock runs ahead of it.
CLOCK_MARGIN = timedelta(minutes=1)


def questions_key(item):
    return f"item:{item.pk}:questions"


def corrections_key(item_id):
    return f"item:{item_id}:corrections"


def questions_of(item):
    """The item's questions in order, each with its options prefetched (question.options.all() costs no query).

    Kept on the item instance too, so that the page and the vote it handles read them once per request.
    """
    questions = getattr(item, "_cached_questions", None)
    if questions is not None:
        return questions
    frozen = content_frozen(item, timezone.now() - CLOCK_MARGIN)
    questions = cache.get(questions_key(item)) if frozen else None
    if questions is None:
        questions = list(item.questions.prefetch_related("options"))
        if frozen:
            for question in questions:
                question._state.fields_cache.pop("item", None)  # not a stale copy of the item in the cache
            cache.set(questions_key(item), questions, TIMEOUT)
    for question in questions:
        question.item = item
    item._cached_questions = questions
    return questions


def with_corrections(item):
    """Fill item.corrections.all() from the cache (the corrections include reads it), and return the item."""
    corrections = cache.get(corrections_key(item.pk))
    if corrections is None:
        corrections = list(item.corrections.all())
        for correction in corrections:
            correction._state.fields_cache.pop("item", None)
        cache.set(corrections_key(item.pk), corrections, TIMEOUT)
    for correction in corrections:
        correction.item = item
    queryset = item.corrections.all()
    queryset._result_cache = corrections
    queryset._prefetch_done = True
    item._prefetched_objects_cache = getattr(item, "_prefetched_objects_cache", {}) | {"corrections": queryset}
    return item


@receiver([post_save, post_delete], sender=ItemCorrection, dispatch_uid="item_cache_corrections")
def forget_corrections(sender, instance, **kwargs):
    key = corrections_key(instance.item_id)
    cache.delete(key)
    # Again after the commit: a page read between the save and the commit may have cached the old list.
    transaction.on_commit(lambda: cache.delete(key))
