"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/cart-cookie-clear", methods=["GET", "POST"])
async def cart_cookie_clear(request: Request):
    """Cart cookie clear."""
    cart = request.query_params.get("cart", "")
    cleaned = cart.strip()
    resp = JSONResponse({"cart": cleaned})
    resp.delete_cookie("cart_session")
    return resp
