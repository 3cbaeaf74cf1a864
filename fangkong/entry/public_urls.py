"""Entry's public pages, mounted under /me/ beside the portal's self-service."""

from django.urls import path

from fangkong.entry import public

app_name = "entry_public"

urlpatterns = [
    path("arrival/", public.arrival_report, name="report"),
    path("arrivals/", public.my_arrivals, name="mine"),
]
