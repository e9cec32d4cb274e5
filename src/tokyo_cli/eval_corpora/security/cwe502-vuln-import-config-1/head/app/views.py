"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import parse_config


@require_http_methods(["GET", "POST"])
def import_config(request):
    """Import config."""
    config = json.loads(request.body or b"{}").get("config", "")
    return JsonResponse({"keys": sorted(parse_config(config))})
