"""HTTP handlers."""

import httpx

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def fetch_avatar(url):
    with httpx.Client(timeout=5) as client:
        return len(client.get(url).content)


@app.api_route("/avatar-fetch", methods=["GET", "POST"])
async def avatar_fetch(request: Request):
    """Avatar fetch."""
    avatar = request.cookies.get("avatar", "")
    cleaned = avatar.strip()
    return JSONResponse({"bytes": fetch_avatar(cleaned)})
