from django.http import HttpResponse


def forecast_view(request):
    return HttpResponse("todo")
