from django.urls import path

from rapport.sales import views_forecast as views

urlpatterns = [
    path("forecast/", views.forecast_view, name="forecast"),
    path("forecast.csv", views.forecast_csv_view, name="forecast_csv"),
    path("forecast/adjust/", views.forecast_adjust_view, name="forecast_adjust"),
    path("forecast/quotas/", views.quota_view, name="forecast_quotas"),
]
