"""潜在客户开发 models."""

from django.db import models  # noqa: F401
