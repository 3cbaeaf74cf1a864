"""The resident's door-step request, a zones page in the public layout, mounted
under the portal's self-service addresses (``/me/requests/new/``) by
``fangkong/urls.py``."""

from django.urls import path

from fangkong.zones import views

app_name = "zones_resident"

urlpatterns = [
    path("requests/new/", views.resident_request, name="request_new"),
]
