from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "branchcare.core"
    label = "core"
    verbose_name = _("核心机制")

    def ready(self) -> None:
        from . import security  # noqa: F401  (connects the security-event receivers)
