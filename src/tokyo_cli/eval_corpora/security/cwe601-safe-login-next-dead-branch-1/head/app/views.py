"""HTTP handlers."""

from django.http import HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def login_next_dead_branch(request):
    """Login next dead branch."""
    next_value = request.COOKIES.get("next", "")
    if LEGACY_MODE:
        return HttpResponseRedirect(next_value)
    return JsonResponse({"disabled": True})
