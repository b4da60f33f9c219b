"""研发平台 models."""

from django.db import models  # noqa: F401
