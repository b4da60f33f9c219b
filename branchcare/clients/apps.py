from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "branchcare.clients"
    label = "clients"
    verbose_name = _("客户")

    def ready(self) -> None:
        from . import timeline_providers, workbench  # noqa: F401  (register timeline events and workbench cards)
