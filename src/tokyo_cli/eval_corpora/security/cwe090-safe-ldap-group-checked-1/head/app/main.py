"""HTTP handlers."""

import os
import re

import ldap

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse


app = FastAPI()

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=groups,dc=example,dc=com"


@app.api_route("/ldap-group-checked", methods=["GET", "POST"])
async def ldap_group_checked(request: Request):
    """Ldap group checked."""
    group = request.query_params.get("group", "")
    cleaned = group.strip()
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", cleaned):
        raise HTTPException(status_code=400, detail="invalid input")
    flt = "(&(objectClass=groupOfNames)(cn=%s))" % cleaned
    entries = ldap.initialize(LDAP_URL).search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)
    return JSONResponse({"groups": len(entries)})
