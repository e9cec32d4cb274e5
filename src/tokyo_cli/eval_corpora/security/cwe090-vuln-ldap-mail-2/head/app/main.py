"""HTTP handlers."""

import os
from ldap3 import Connection, Server

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"


def find_people(mail):
    conn = Connection(Server(LDAP_URL), auto_bind=True)
    conn.search(BASE_DN, f"(&(objectClass=person)(mail={mail}))", attributes=["cn"])
    return [str(e.cn) for e in conn.entries]


@app.api_route("/ldap-mail", methods=["GET", "POST"])
async def ldap_mail(request: Request):
    """Ldap mail."""
    mail = request.headers.get("x-mail", "")
    return JSONResponse({"people": find_people(mail)})
