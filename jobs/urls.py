from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("models/<str:model_id>/deploy/", views.deploy, name="deploy"),
    path("endpoints/", views.endpoint_list, name="endpoint-list"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="endpoint-detail"),
    path("endpoints/<int:pk>/invoke/", views.endpoint_invoke, name="endpoint-invoke"),
    path("endpoints/<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
]
