from django.urls import path

from rapport.commerce import views

urlpatterns = [
    path("products/", views.product_list_view, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("orders/", views.order_list_view, name="order_list"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/ship/", views.order_ship_view, name="order_ship"),
    path("orders/<int:pk>/invoice/", views.order_invoice_view, name="order_invoice"),
    path("invoices/", views.invoice_list_view, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
]
