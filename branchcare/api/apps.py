from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "branchcare.api"
    label = "api"
    verbose_name = "API"
