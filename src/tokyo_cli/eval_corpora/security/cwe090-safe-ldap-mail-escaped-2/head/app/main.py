"""HTTP handlers."""

import os
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"


def find_people(mail):
    conn = Connection(Server(LDAP_URL), auto_bind=True)
    conn.search(BASE_DN, f"(&(objectClass=person)(mail={escape_filter_chars(mail)}))", attributes=["cn"])
    return [str(e.cn) for e in conn.entries]


@app.api_route("/ldap-mail-escaped", methods=["GET", "POST"])
async def ldap_mail_escaped(request: Request):
    """Ldap mail escaped."""
    mail = request.cookies.get("mail", "")
    return JSONResponse({"people": find_people(mail)})
