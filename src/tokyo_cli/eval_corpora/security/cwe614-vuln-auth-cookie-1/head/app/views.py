"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import sign


@require_http_methods(["GET", "POST"])
def auth_cookie(request):
    """Auth cookie."""
    user = json.loads(request.body or b"{}").get("user", "")
    resp = JsonResponse({"user": user})
    resp.set_cookie("auth", sign(user), httponly=True, secure=False)
    return resp
