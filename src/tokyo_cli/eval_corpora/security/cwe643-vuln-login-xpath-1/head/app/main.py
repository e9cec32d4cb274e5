"""HTTP handlers."""

from lxml import etree

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

ACCOUNTS = "/srv/data/accounts.xml"


@app.api_route("/login-xpath", methods=["GET", "POST"])
async def login_xpath(request: Request):
    """Login xpath."""
    login = request.cookies.get("login", "")
    cleaned = login.strip()
    expr = "//account[login='%s' and active='yes']" % cleaned
    found = etree.parse(ACCOUNTS).xpath(expr)
    return JSONResponse({"exists": bool(found)})
