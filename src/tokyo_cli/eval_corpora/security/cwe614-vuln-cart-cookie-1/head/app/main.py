"""HTTP handlers."""

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/cart-cookie", methods=["GET", "POST"])
async def cart_cookie(request: Request):
    """Cart cookie."""
    cart = request.cookies.get("cart", "")
    cleaned = cart.strip()
    resp = JSONResponse({"cart": cleaned})
    resp.set_cookie("cart_session", secrets.token_hex(16), samesite="Lax")
    return resp
