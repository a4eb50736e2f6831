"""Cursor pagination: stable pages however many items are added while someone reads."""

from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

PAGE_SIZE = 50


# What DRF's cursors are made of (base64); anything else is refused before a query runs.
CURSOR_PATTERN = r"^[A-Za-z0-9+/=]*$"  # empty: the first page


class PublicCursorPagination(CursorPagination):
    page_size = PAGE_SIZE
    ordering = ("pk",)

    def paginate_queryset(self, queryset, request, view=None):
        """DRF's cursor pagination, with a forged cursor (a position that is not a date, say) a 404 instead of a 500.

        A cursor is base64 that anyone can write; DRF checks its shape but puts its position into the query as given.
        """
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValidationError, ValueError, TypeError) as error:
            raise NotFound(self.invalid_cursor_message) from error

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # PostgreSQL refuses a NUL in any text comparison (a 500): the request guard cannot see it inside base64.
        if cursor is not None and cursor.position is not None and "\x00" in cursor.position:
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"]["pattern"] = CURSOR_PATTERN
        return parameters


def ordered_by(*ordering):
    """A cursor pagination class that pages in this order (the first field is the cursor's position)."""
    name = "CursorBy" + "".join(field.strip("-").title().replace("_", "") for field in ordering)
    return type(name, (PublicCursorPagination,), {"ordering": ordering})
