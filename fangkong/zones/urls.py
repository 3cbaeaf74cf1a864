from django.urls import path

from fangkong.zones import views

app_name = "zones"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("map/", views.zone_map, name="map"),
    path("map/data/", views.map_data, name="map_data"),
    path("list/", views.zone_list, name="list"),
    path("new/", views.zone_new, name="new"),
    path("<int:zone_id>/", views.zone_detail, name="zone"),
    path("<int:zone_id>/card/", views.zone_card, name="card"),
    path("<int:zone_id>/change/", views.zone_change, name="change"),
    path("<int:zone_id>/team/", views.team_add, name="team_add"),
    path("<int:zone_id>/supplies/", views.zone_supplies, name="supplies"),
    path("team/<int:member_id>/remove/", views.team_remove, name="team_remove"),
    path("approvals/", views.approvals, name="approvals"),
    path("proposals/<int:proposal_id>/approve/", views.proposal_approve, name="approve"),
    path("proposals/<int:proposal_id>/refuse/", views.proposal_refuse, name="refuse"),
    path("recommendations/<int:rec_id>/accept/", views.recommendation_accept, name="rec_accept"),
    path("recommendations/<int:rec_id>/dismiss/", views.recommendation_dismiss, name="rec_dismiss"),
    path("requests/", views.request_board, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:request_id>/assign/", views.request_assign, name="request_assign"),
    path("requests/<int:request_id>/complete/", views.request_complete, name="request_complete"),
    path("requests/<int:request_id>/confirm/", views.request_confirm, name="request_confirm"),
]
