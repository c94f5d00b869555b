from django.urls import path

from rapport.sales import views_metrics as views

urlpatterns = [
    path("sales/metrics/", views.metrics_view, name="sales_metrics"),
    path("sales/metrics.csv", views.metrics_csv_view, name="sales_metrics_csv"),
]
