"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import new_token


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def session_cookie_dead_branch(request):
    """Session cookie dead branch."""
    remember = request.COOKIES.get("remember", "")
    if LEGACY_MODE:
        resp = JsonResponse({"ok": True})
        resp.set_cookie("session_id", new_token(remember))
        return resp
    return JsonResponse({"disabled": True})
