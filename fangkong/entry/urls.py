from django.urls import path

from fangkong.entry import views

app_name = "entry"

urlpatterns = [
    path("", views.arrivals, name="arrivals"),
    path("arrivals/<int:arrival_id>/", views.arrival_detail, name="arrival"),
    path("arrivals/<int:arrival_id>/test/", views.arrival_test, name="arrival_test"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<int:transfer_id>/depart/", views.transfer_depart, name="transfer_depart"),
    path("transfers/<int:transfer_id>/hand-over/", views.transfer_hand_over, name="hand_over"),
    path("handoffs/", views.handoffs, name="handoffs"),
    path("handoffs/<int:handoff_id>/accept/", views.handoff_accept, name="handoff_accept"),
    path("checkpoints/", views.checkpoints, name="checkpoints"),
    path("checkpoints/<int:checkpoint_id>/", views.checkpoints, name="checkpoint"),
    path("lists/", views.lists, name="lists"),
    path("lists/<int:list_id>/publish/", views.list_publish, name="list_publish"),
    path("lists/<int:list_id>/withdraw/", views.list_withdraw, name="list_withdraw"),
    path("reviews/<int:review_id>/", views.review_resolve, name="review_resolve"),
]
