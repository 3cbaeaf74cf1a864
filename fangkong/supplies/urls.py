from django.urls import path

from fangkong.supplies import views

app_name = "supplies"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("warehouses/", views.warehouse_list, name="warehouses"),
    path("warehouses/<int:warehouse_id>/", views.warehouse_detail, name="warehouse"),
    path("prices/", views.prices, name="prices"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/new/", views.delivery_new, name="delivery_new"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path(
        "deliveries/<int:delivery_id>/dispatch", views.delivery_dispatch, name="delivery_dispatch"
    ),
    path("deliveries/<int:delivery_id>/deliver", views.delivery_deliver, name="delivery_deliver"),
    path("deliveries/<int:delivery_id>/cancel", views.delivery_cancel, name="delivery_cancel"),
    path("deliveries/<int:delivery_id>/photo", views.delivery_photo, name="delivery_photo"),
]
