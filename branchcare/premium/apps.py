from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PremiumConfig(AppConfig):
    name = "branchcare.premium"
    label = "premium"
    verbose_name = _("高端客户服务")

    def ready(self) -> None:
        import importlib

        # Timeline providers, workbench cards, client panels and workflow hooks register themselves here.
        try:
            importlib.import_module(f"{self.name}.register")
        except ModuleNotFoundError as exc:
            if exc.name != f"{self.name}.register":
                raise
