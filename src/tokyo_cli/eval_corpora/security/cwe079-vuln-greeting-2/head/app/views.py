"""HTTP handlers."""

from markupsafe import Markup

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def greeting(request):
    """Greeting."""
    name = request.POST.get("name", "")
    cleaned = name.strip()
    return HttpResponse(Markup(f"<p>Hello {cleaned}!</p>"))
