"""HTTP handlers."""

from markupsafe import Markup

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def greeting_dead_branch(request):
    """Greeting dead branch."""
    name = request.COOKIES.get("name", "")
    if LEGACY_MODE:
        return HttpResponse(Markup(f"<p>Hello {name}!</p>"))
    return JsonResponse({"disabled": True})
