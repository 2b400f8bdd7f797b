from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import path

from . import views

urlpatterns = [path("", views.index)]

# Static files, the admin's among them, as runserver serves them (only with DEBUG).
urlpatterns += staticfiles_urlpatterns()
