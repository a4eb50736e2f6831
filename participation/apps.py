from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "participation"
    verbose_name = _("E-participation")

    def ready(self):
        # Imported once the models are ready: connects the audit and cache receivers, registers the staff permissions.
        # apps.ready: receivers and rules register once the models are loaded (Django's documented place).
        from . import item_cache, permissions, signals  # noqa: F401
