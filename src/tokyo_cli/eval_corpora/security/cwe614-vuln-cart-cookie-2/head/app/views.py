"""HTTP handlers."""

import secrets

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/cart-cookie", methods=["GET", "POST"])
def cart_cookie():
    """Cart cookie."""
    cart = request.args.get("cart", "")
    resp = jsonify({"cart": cart})
    resp.set_cookie("cart_session", secrets.token_hex(16), samesite="Lax")
    return resp
