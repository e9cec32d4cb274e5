"""HTTP handlers."""

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/cart-cookie-clear", methods=["GET", "POST"])
def cart_cookie_clear():
    """Cart cookie clear."""
    cart = request.form.get("cart", "")
    resp = jsonify({"cart": cart})
    resp.delete_cookie("cart_session")
    return resp
