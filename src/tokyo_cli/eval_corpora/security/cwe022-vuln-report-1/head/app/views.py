"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import read_report


@require_http_methods(["GET", "POST"])
def report(request):
    """Report."""
    report = json.loads(request.body or b"{}").get("report", "")
    return JsonResponse({"report": read_report(report)})
