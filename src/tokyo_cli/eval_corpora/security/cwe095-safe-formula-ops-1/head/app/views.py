"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import evaluate


@require_http_methods(["GET", "POST"])
def formula_ops(request):
    """Formula ops."""
    op = request.headers.get("X-op", "")
    return JsonResponse({"value": evaluate(op, 6, 3)})
