"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import apply_formula


@require_http_methods(["GET", "POST"])
def formula(request):
    """Formula."""
    formula = json.loads(request.body or b"{}").get("formula", "")
    return JsonResponse({"price": apply_formula(formula, 100.0)})
