"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import delete_cart


app = Flask(__name__)


@app.route("/cart-delete", methods=["GET", "POST"])
def cart_delete():
    """Cart delete."""
    token = request.args.get("token", "")
    delete_cart(token)
    return jsonify({"deleted": True})
