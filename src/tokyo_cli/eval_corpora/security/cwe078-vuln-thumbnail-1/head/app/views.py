"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import make_thumbnail


@require_http_methods(["GET", "POST"])
def thumbnail(request):
    """Thumbnail."""
    image = json.loads(request.body or b"{}").get("image", "")
    make_thumbnail(image)
    return JsonResponse({"ok": True})
