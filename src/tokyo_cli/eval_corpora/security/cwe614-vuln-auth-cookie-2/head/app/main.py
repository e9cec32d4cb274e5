"""HTTP handlers."""

import os
import hashlib
import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

KEY = os.environ["COOKIE_KEY"].encode()


def sign(value):
    return value + "." + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()


@app.api_route("/auth-cookie", methods=["GET", "POST"])
async def auth_cookie(request: Request):
    """Auth cookie."""
    user = request.headers.get("x-user", "")
    resp = JSONResponse({"user": user})
    resp.set_cookie("auth", sign(user), httponly=True, secure=False)
    return resp
