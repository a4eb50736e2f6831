"""Cursor pagination: stable pages however many items are added while someone reads."""

from rest_framework.pagination import CursorPagination

PAGE_SIZE = 50


class PublicCursorPagination(CursorPagination):
    page_size = PAGE_SIZE
    ordering = ("pk",)


def ordered_by(*ordering):
    """A cursor pagination class that pages in this order (the first field is the cursor's position)."""
    name = "CursorBy" + "".join(field.strip("-").title().replace("_", "") for field in ordering)
    return type(name, (PublicCursorPagination,), {"ordering": ordering})
