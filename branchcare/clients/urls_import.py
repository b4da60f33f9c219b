"""Import pages (upload, preview, progress, result). Filled in by the import feature."""

urlpatterns: list = []
