from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    # Public, for reporters: a stable address to give out (issue #24).
    path("report/", views.start, name="start"),
    path("report/new/", views.new, name="new"),
    path("report/return/", views.come_back, name="come-back"),
    path("report/mine/", views.case, name="case"),
    path("report/mine/reply/", views.case_reply, name="case-reply"),
    path("report/mine/files/", views.case_files, name="case-files"),
    path(
        "report/mine/files/<int:pk>/remove-details/",
        views.case_remove_details,
        name="case-remove-details",
    ),
    path("report/leave/", views.leave, name="leave"),
    path("report/language/", views.set_language, name="language"),
    # For the receiving organisation (signed in).
    path("intakes/", views.queue, name="queue"),
    path("intakes/listing/<slug:slug>/", views.listing, name="listing"),
    path("intakes/<str:reference>/", views.queue_detail, name="queue-detail"),
    path("intakes/<str:reference>/reply/", views.queue_reply, name="queue-reply"),
    path("intakes/<str:reference>/adopt/", views.queue_adopt, name="queue-adopt"),
    path("intakes/<str:reference>/add-files/", views.queue_add_files, name="queue-add-files"),
    path("intakes/<str:reference>/route/", views.queue_route, name="queue-route"),
    path("intakes/<str:reference>/files/<int:pk>/", views.queue_file, name="queue-file"),
]
