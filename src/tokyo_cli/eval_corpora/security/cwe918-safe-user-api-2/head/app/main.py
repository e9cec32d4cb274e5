"""HTTP handlers."""

import os
from urllib.parse import quote

import requests

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

API_BASE = os.environ.get("USERS_API", "https://users.internal.example.com")


@app.api_route("/user-api", methods=["GET", "POST"])
async def user_api(request: Request):
    """User api."""
    uid = request.cookies.get("uid", "")
    resp = requests.get(f"{API_BASE}/users/{quote(uid, safe='')}", timeout=5)
    return JSONResponse({"status": resp.status_code})
