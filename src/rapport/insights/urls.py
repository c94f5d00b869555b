from django.urls import path

from rapport.insights import views

urlpatterns = [
    path("insights/olap/", views.olap_page, name="olap"),
    path("insights/olap/export", views.olap_export, name="olap_export"),
]
