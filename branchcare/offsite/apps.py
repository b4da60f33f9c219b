from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffsiteConfig(AppConfig):
    name = "branchcare.offsite"
    label = "offsite"
    verbose_name = _("非现场客户服务")

    def ready(self) -> None:
        import importlib

        # Timeline providers, workbench cards, client panels and workflow hooks register themselves here.
        try:
            importlib.import_module(f"{self.name}.register")
        except ModuleNotFoundError as exc:
            if exc.name != f"{self.name}.register":
                raise
