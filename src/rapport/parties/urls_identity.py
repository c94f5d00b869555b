from django.urls import path

from rapport.parties import views_identity as views

# The same views for both kinds of party; ``kind`` picks the models, services and routes.
_ACCOUNTS = {"kind": "account"}

urlpatterns = [
    path("contacts/duplicates/", views.duplicate_queue_view, name="duplicate_queue"),
    path("contacts/duplicates/accept/", views.duplicates_accept_view, name="duplicates_accept"),
    path("contacts/duplicates/scan/", views.duplicates_scan_view, name="duplicates_scan"),
    path("contacts/duplicates/<int:pk>/", views.duplicate_pair_view, name="duplicate_pair"),
    path("contacts/merges/<int:pk>/undo/", views.merge_undo_view, name="merge_undo"),
    path("accounts/duplicates/", views.duplicate_queue_view, _ACCOUNTS, name="account_duplicate_queue"),
    path("accounts/duplicates/accept/", views.duplicates_accept_view, _ACCOUNTS, name="account_duplicates_accept"),
    path("accounts/duplicates/scan/", views.duplicates_scan_view, _ACCOUNTS, name="account_duplicates_scan"),
    path("accounts/duplicates/<int:pk>/", views.duplicate_pair_view, _ACCOUNTS, name="account_duplicate_pair"),
    path("accounts/merges/<int:pk>/undo/", views.merge_undo_view, _ACCOUNTS, name="account_merge_undo"),
]
