"""HTTP handlers."""

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_http_methods


DESTINATIONS = {"home": "/", "cart": "/cart", "orders": "/account/orders"}


@require_http_methods(["GET", "POST"])
def logout_mapping(request):
    """Logout mapping."""
    target = request.headers.get("X-target", "")
    target = DESTINATIONS.get(target, "/")
    return HttpResponseRedirect(target)
