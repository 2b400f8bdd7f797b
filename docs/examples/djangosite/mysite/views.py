import os

from django.shortcuts import render

MESSAGE = "Hello from Django! Edit MESSAGE in mysite/views.py and save: watch this page."


def index(request):
    return render(request, "page.html", {"message": MESSAGE, "pid": os.getpid()})
