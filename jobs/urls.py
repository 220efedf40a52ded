from django.urls import path

from . import resource_views, training_views, views

app_name = "jobs"
urlpatterns = [
    path("models/<str:model_id>/deploy/", views.deploy, name="deploy"),
    path("endpoints/", views.endpoint_list, name="endpoint-list"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="endpoint-detail"),
    path("endpoints/<int:pk>/invoke/", views.endpoint_invoke, name="endpoint-invoke"),
    path("endpoints/<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("models/<str:model_id>/fine-tune/", training_views.train, name="train"),
    path("models/<str:model_id>/fine-tune/hints/", training_views.train_hints, name="train-hints"),
    path("models/<str:model_id>/fine-tune/check/", training_views.data_check_start, name="data-check-start"),
    path("data-checks/<int:pk>/", training_views.data_check_detail, name="data-check"),
    path("s3/", training_views.s3_browse, name="s3-browse"),
    path("training-jobs/", training_views.training_list, name="training-list"),
    path("training-jobs/<int:pk>/", training_views.training_detail, name="training-detail"),
    path("training-jobs/<int:pk>/stop/", training_views.training_stop, name="training-stop"),
    path("training-jobs/<int:pk>/deploy/", views.deploy_fine_tuned, name="training-deploy"),
    path("solutions/<slug:slug>/launch/", resource_views.solution_launch, name="solution-launch-start"),
    path("solution-launches/<int:pk>/", resource_views.solution_launch_detail, name="solution-launch"),
    path("solution-launches/<int:pk>/delete/", resource_views.solution_launch_delete, name="solution-launch-delete"),
    path("resources/", resource_views.resources_pane, name="resources-pane"),
    path("cleanup/", resource_views.cleanup, name="cleanup"),
]
