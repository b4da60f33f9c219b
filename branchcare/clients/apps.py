from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "branchcare.clients"
    label = "clients"
    verbose_name = _("客户")

    def ready(self) -> None:
        from . import timeline_providers  # noqa: F401  (registers the client's own timeline events)
