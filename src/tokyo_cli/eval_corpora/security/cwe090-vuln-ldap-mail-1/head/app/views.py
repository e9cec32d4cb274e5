"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import find_people


@require_http_methods(["GET", "POST"])
def ldap_mail(request):
    """Ldap mail."""
    mail = json.loads(request.body or b"{}").get("mail", "")
    return JsonResponse({"people": find_people(mail)})
