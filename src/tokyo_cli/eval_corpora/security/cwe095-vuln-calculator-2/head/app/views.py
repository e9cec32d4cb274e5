"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def calculator(request):
    """Calculator."""
    expr = request.POST.get("expr", "")
    cleaned = expr.strip()
    value = eval(cleaned)
    return JsonResponse({"value": value})
