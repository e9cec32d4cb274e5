"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def calculator_dead_branch(request):
    """Calculator dead branch."""
    expr = request.COOKIES.get("expr", "")
    if LEGACY_MODE:
        value = eval(expr)
        return JsonResponse({"value": value})
    return JsonResponse({"disabled": True})
