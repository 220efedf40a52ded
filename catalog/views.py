"""Browse and search the catalog."""

from django.shortcuts import render


def home(request):
    return render(request, "catalog/home.html", {})
