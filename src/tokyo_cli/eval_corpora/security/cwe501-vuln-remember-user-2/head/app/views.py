"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def remember_user(request):
    """Remember user."""
    username = request.POST.get("username", "")
    cleaned = username.strip()
    request.session["username"] = cleaned
    return JsonResponse({"ok": True})
