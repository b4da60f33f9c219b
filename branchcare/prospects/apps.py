from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProspectsConfig(AppConfig):
    name = "branchcare.prospects"
    label = "prospects"
    verbose_name = _("潜在客户开发")

    def ready(self) -> None:
        import importlib

        # Timeline providers, workbench cards, client panels and workflow hooks register themselves here.
        try:
            importlib.import_module(f"{self.name}.register")
        except ModuleNotFoundError as exc:
            if exc.name != f"{self.name}.register":
                raise
