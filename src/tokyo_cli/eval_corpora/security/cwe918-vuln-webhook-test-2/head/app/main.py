"""HTTP handlers."""

import urllib.request

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/webhook-test", methods=["GET", "POST"])
async def webhook_test(request: Request):
    """Webhook test."""
    callback = request.headers.get("x-callback", "")
    with urllib.request.urlopen(callback, timeout=5) as resp:
        code = resp.status
    return JSONResponse({"status": code})
