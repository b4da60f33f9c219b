"""监督考核 models."""

from django.db import models  # noqa: F401
