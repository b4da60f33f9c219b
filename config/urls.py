from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from branchcare.core.views import healthz
from branchcare.org.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/2fa/", include("branchcare.org.urls_twofactor")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("inbox/", include("branchcare.core.urls")),
    path("clients/", include("branchcare.clients.urls")),
    path("onsite/", include("branchcare.onsite.urls")),
    path("research/performance/", include("branchcare.research.performance.urls")),
    path("research/", include("branchcare.research.urls")),
    path("offsite/", include("branchcare.offsite.urls")),
    path("premium/", include("branchcare.premium.urls")),
    path("prospects/", include("branchcare.prospects.urls")),
    path("supervision/", include("branchcare.supervision.urls")),
    path("org/", include("branchcare.org.urls")),
    path("org/standards/", include("branchcare.org.urls_standards")),
    path("", include("branchcare.api.urls")),
    path("admin/", admin.site.urls),
]
