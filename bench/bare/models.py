from django.conf import settings
from django.db import models


class Row(models.Model):
    """What the bare pages list and insert: a line of text and who wrote it."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE)
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.text
