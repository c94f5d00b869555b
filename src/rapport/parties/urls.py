from django.urls import path

from rapport.parties import views

urlpatterns = [
    path("contacts/", views.contact_list_view, name="contact_list"),
    path("contacts/new/", views.contact_form_view, name="contact_new"),
    path("contacts/<int:pk>/edit/", views.contact_form_view, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete_view, name="contact_delete"),
    path("contacts/bulk/", views.bulk_view, {"model_name": "contact"}, name="contact_bulk"),
    path("contacts/views/", views.saved_view_save, {"model_name": "contact"}, name="contact_view_save"),
    path(
        "contacts/views/<int:pk>/delete/",
        views.saved_view_delete_view,
        {"model_name": "contact"},
        name="contact_view_delete",
    ),
    path("accounts/", views.account_list_view, name="account_list"),
    path("accounts/new/", views.account_form_view, name="account_new"),
    path("accounts/<int:pk>/edit/", views.account_form_view, name="account_edit"),
    path("accounts/<int:pk>/delete/", views.account_delete_view, name="account_delete"),
    path("accounts/bulk/", views.bulk_view, {"model_name": "account"}, name="account_bulk"),
    path("accounts/views/", views.saved_view_save, {"model_name": "account"}, name="account_view_save"),
    path(
        "accounts/views/<int:pk>/delete/",
        views.saved_view_delete_view,
        {"model_name": "account"},
        name="account_view_delete",
    ),
    path("search/", views.search_view, name="search"),
]
