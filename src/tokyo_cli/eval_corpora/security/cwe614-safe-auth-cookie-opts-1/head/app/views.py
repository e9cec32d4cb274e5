"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import sign


@require_http_methods(["GET", "POST"])
def auth_cookie_opts(request):
    """Auth cookie opts."""
    user = request.headers.get("X-user", "")
    resp = JsonResponse({"user": user})
    resp.set_cookie("auth", sign(user), **COOKIE_OPTIONS)
    return resp
