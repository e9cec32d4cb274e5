"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import invoice_total


@require_http_methods(["GET", "POST"])
def import_invoice(request):
    """Import invoice."""
    invoice = json.loads(request.body or b"{}").get("invoice", "")
    return JsonResponse({"total": invoice_total(invoice)})
