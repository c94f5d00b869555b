from django.urls import path

from rapport.parties import views_imports as views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:job_id>/errors/", views.import_errors, name="import_errors"),
    path("imports/<int:job_id>/skipped/", views.import_skipped, name="import_skipped"),
    path("exports/contacts/", views.export_contacts, name="export_contacts"),
    path("exports/accounts/", views.export_accounts, name="export_accounts"),
]
