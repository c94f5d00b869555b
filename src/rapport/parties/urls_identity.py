from django.urls import path

from rapport.parties import views_identity as views

urlpatterns = [
    path("contacts/duplicates/", views.duplicate_queue_view, name="duplicate_queue"),
    path("contacts/duplicates/accept/", views.duplicates_accept_view, name="duplicates_accept"),
    path("contacts/duplicates/scan/", views.duplicates_scan_view, name="duplicates_scan"),
    path("contacts/duplicates/<int:pk>/", views.duplicate_pair_view, name="duplicate_pair"),
    path("contacts/merges/<int:pk>/undo/", views.merge_undo_view, name="merge_undo"),
]
