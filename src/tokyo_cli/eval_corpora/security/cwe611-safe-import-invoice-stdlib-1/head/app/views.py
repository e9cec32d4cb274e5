"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import invoice_total


@require_http_methods(["GET", "POST"])
def import_invoice_stdlib(request):
    """Import invoice stdlib."""
    invoice = request.headers.get("X-invoice", "")
    return JsonResponse({"total": invoice_total(invoice)})
