from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "participation"
    verbose_name = _("E-participation")

    def ready(self):
        from . import item_cache, signals  # noqa: F401  (connect the audit and cache receivers)
