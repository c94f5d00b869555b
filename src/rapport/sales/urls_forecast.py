from django.urls import path

from rapport.sales import views_forecast as views

urlpatterns = [
    path("forecast/", views.forecast_view, name="forecast"),
]
