"""HTTP handlers."""

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def login_next(request):
    """Login next."""
    next_value = request.POST.get("next", "")
    cleaned = next_value.strip()
    return HttpResponseRedirect(cleaned)
