"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def remember_user_dead_branch(request):
    """Remember user dead branch."""
    username = request.COOKIES.get("username", "")
    if LEGACY_MODE:
        request.session["username"] = username
        return JsonResponse({"ok": True})
    return JsonResponse({"disabled": True})
