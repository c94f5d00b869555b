from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.static import serve

from rapport.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="core/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("rapport.core.urls")),
    path("", include("rapport.parties.urls")),
    path("", include("rapport.parties.urls_imports")),
    path("", include("rapport.parties.urls_identity")),
    path("", include("rapport.activities.urls")),
    path("", include("rapport.commerce.urls")),
    path("", include("rapport.sales.urls_leads")),
    path("", include("rapport.sales.urls_deals")),
    path("", include("rapport.sales.urls_quotes")),
    path("", include("rapport.sales.urls_forecast")),
    path("", include("rapport.sales.urls_metrics")),
    path("", include("rapport.insights.urls")),
    path("", include("rapport.insights.urls_scores")),
    path("", include("rapport.insights.urls_dash")),
]

if settings.DEBUG:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
