"""HTTP handlers."""

import os
import ldap

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=groups,dc=example,dc=com"


@app.api_route("/ldap-group", methods=["GET", "POST"])
async def ldap_group(request: Request):
    """Ldap group."""
    group = request.cookies.get("group", "")
    cleaned = group.strip()
    flt = "(&(objectClass=groupOfNames)(cn=%s))" % cleaned
    entries = ldap.initialize(LDAP_URL).search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)
    return JSONResponse({"groups": len(entries)})
