"""HTTP handlers."""

import json
import ast

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def calculator_literal(request):
    """Calculator literal."""
    expr = json.loads(request.body or b"{}").get("expr", "")
    cleaned = expr.strip()
    value = ast.literal_eval(cleaned)
    return JsonResponse({"value": value})
