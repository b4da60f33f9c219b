"""API routes: ``api/v1/…`` wired from each app's ``apis.py``, plus the OpenAPI schema and its docs page."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from branchcare.clients.apis import ClientViewSet
from branchcare.org.apis import BranchViewSet, MeView, StaffViewSet
from branchcare.org.apis_standards import ServiceStandardViewSet, TradingCalendarView

from .auth import ObtainTokenView

router = SimpleRouter()
router.register("clients", ClientViewSet, basename="api-client")
router.register("branches", BranchViewSet, basename="api-branch")
router.register("staff", StaffViewSet, basename="api-staff")
router.register("service-standards", ServiceStandardViewSet, basename="api-service-standard")

urlpatterns = [
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/v1/me/", MeView.as_view(), name="api-me"),
    path("api/v1/trading-calendar/", TradingCalendarView.as_view(), name="api-trading-calendar"),
    path("api/v1/", include(router.urls)),
    path("api/v1/", include("branchcare.onsite.api_urls")),
    path("api/v1/", include("branchcare.research.api_urls")),
    path("api/v1/", include("branchcare.research.performance.api_urls")),
    path("api/v1/", include("branchcare.offsite.api_urls")),
    path("api/v1/", include("branchcare.premium.api_urls")),
    path("api/v1/", include("branchcare.prospects.api_urls")),
    path("api/v1/", include("branchcare.supervision.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(  # Swagger UI's own inline <style>
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
