"""HTTP handlers."""

import os
import hashlib
import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

KEY = os.environ["COOKIE_KEY"].encode()
COOKIE_OPTIONS = {"secure": True, "httponly": True, "samesite": "Strict"}


def sign(value):
    return value + "." + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()


@app.api_route("/auth-cookie-opts", methods=["GET", "POST"])
async def auth_cookie_opts(request: Request):
    """Auth cookie opts."""
    user = request.cookies.get("user", "")
    resp = JSONResponse({"user": user})
    resp.set_cookie("auth", sign(user), **COOKIE_OPTIONS)
    return resp
