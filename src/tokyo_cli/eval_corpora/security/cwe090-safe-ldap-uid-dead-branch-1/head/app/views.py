"""HTTP handlers."""

import os
import ldap

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"

LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def ldap_uid_dead_branch(request):
    """Ldap uid dead branch."""
    uid = request.COOKIES.get("uid", "")
    if LEGACY_MODE:
        conn = ldap.initialize(LDAP_URL)
        entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + uid + ")")
        return JsonResponse({"found": len(entries)})
    return JsonResponse({"disabled": True})
