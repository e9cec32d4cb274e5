"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import parse_config


@require_http_methods(["GET", "POST"])
def import_config_safe(request):
    """Import config safe."""
    config = request.headers.get("X-config", "")
    return JsonResponse({"keys": sorted(parse_config(config))})
