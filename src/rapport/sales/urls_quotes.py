from django.urls import path

from rapport.sales import views_quotes as views

urlpatterns = [
    path("quotes/", views.quote_list_view, name="quote_list"),
    path("quotes/<int:pk>/", views.quote_detail_view, name="quote_detail"),
    path("quotes/<int:pk>/revise/", views.quote_revise_view, name="quote_revise"),
    path("quotes/<int:pk>/send/", views.quote_send_view, name="quote_send"),
    path("quotes/<int:pk>/print/", views.quote_print_view, name="quote_print"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf_view, name="quote_pdf"),
    path("opportunities/<int:opportunity_id>/quotes/new/", views.quote_create_view, name="quote_create"),
    # Public: the customer's page, reached by the signed link in the quote email (no login).
    path("q/<str:token>/", views.quote_public_view, name="quote_public"),
]
