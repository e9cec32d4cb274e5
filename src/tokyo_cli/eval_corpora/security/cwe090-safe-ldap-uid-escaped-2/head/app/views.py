"""HTTP handlers."""

import json
import os
import ldap
from ldap.filter import escape_filter_chars

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"


@require_http_methods(["GET", "POST"])
def ldap_uid_escaped(request):
    """Ldap uid escaped."""
    uid = json.loads(request.body or b"{}").get("uid", "")
    cleaned = uid.strip()
    conn = ldap.initialize(LDAP_URL)
    entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + escape_filter_chars(cleaned) + ")")
    return JsonResponse({"found": len(entries)})
