"""What the admin's item forms post, as a browser would send them (the admin has no language prefix)."""

from datetime import timedelta

from django.utils import timezone


def management(prefix, total=0, initial=0):
    """The management fields of an inline formset."""
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def schedule(opens, closes):
    """The opening and closing times as the admin's split date and time fields post them, in local time."""
    opens, closes = timezone.localtime(opens), timezone.localtime(closes)
    return {
        "opens_at_0": opens.strftime("%Y-%m-%d"),
        "opens_at_1": opens.strftime("%H:%M:%S"),
        "closes_at_0": closes.strftime("%Y-%m-%d"),
        "closes_at_1": closes.strftime("%H:%M:%S"),
    }


def poll_form(entity, questions=(), *, slug="new-poll", opens=None, closes=None, **overrides):
    """The poll add form: both languages, citizens and residents, opens tomorrow for a week.

    `questions` are (position, text, [(option position, option text), ...]) with positions as typed
    ("" for empty). Fields given as None are left out, as an unticked box is.
    """
    opens = opens or timezone.now() + timedelta(days=1)
    closes = closes or opens + timedelta(days=7)
    data = {
        "entity": entity.pk,
        "slug": slug,
        "title_ar": "استطلاع جديد",
        "title_en": "A new poll",
        "summary_ar": "ملخص",
        "summary_en": "Summary",
        "body_ar": "نص",
        "body_en": "Body",
        **schedule(opens, closes),
        "for_citizens": "on",
        "for_residents": "on",
        **management("questions", total=len(questions)),
        "_save": "Save",
    }
    for i, (position, text, options) in enumerate(questions):
        data.update(
            {
                f"questions-{i}-position": position,
                f"questions-{i}-text_ar": f"سؤال {text}",
                f"questions-{i}-text_en": f"Question {text}",
                f"questions-{i}-kind": "single",
                f"questions-{i}-min_choices": "1",
                f"questions-{i}-max_choices": "1",
                **management(f"questions-{i}-options", total=len(options)),
            }
        )
        for j, (option_position, option_text) in enumerate(options):
            data.update(
                {
                    f"questions-{i}-options-{j}-position": option_position,
                    f"questions-{i}-options-{j}-text_ar": f"خيار {option_text}",
                    f"questions-{i}-options-{j}-text_en": option_text,
                }
            )
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
