"""HTTP handlers."""

from lxml import etree

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

ACCOUNTS = "/srv/data/accounts.xml"


@app.api_route("/login-scan", methods=["GET", "POST"])
async def login_scan(request: Request):
    """Login scan."""
    login = request.query_params.get("login", "")
    cleaned = login.strip()
    accounts = etree.parse(ACCOUNTS).xpath("//account[active='yes']")
    found = [a for a in accounts if a.findtext("login") == cleaned]
    return JSONResponse({"exists": bool(found)})
