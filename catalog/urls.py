from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model-list"),
    path("models/<str:model_id>/", views.model_detail, name="model-detail"),
    path("solutions/", views.solution_list, name="solution-list"),
    path("solutions/<slug:slug>/", views.solution_detail, name="solution-detail"),
    path("notebooks/", views.notebook_list, name="notebook-list"),
    path("notebooks/<int:pk>/", views.notebook_detail, name="notebook-detail"),
    path("algorithms/", views.algorithm_list, name="algorithm-list"),
    path("algorithms/<slug:slug>/", views.algorithm_detail, name="algorithm-detail"),
    path("links/", views.link_list, name="link-list"),
]
