"""HTTP handlers."""

import base64
import json

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/restore-cart-json", methods=["GET", "POST"])
def restore_cart_json():
    """Restore cart json."""
    cart = request.form.get("cart", "")
    cart = json.loads(base64.b64decode(cart))
    return jsonify({"items": len(cart)})
