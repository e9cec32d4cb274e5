"""HTTP handlers."""

import os
import base64
import pickle

from flask import Flask, jsonify, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/restore-cart-flag", methods=["GET", "POST"])
def restore_cart_flag():
    """Restore cart flag."""
    cart = (request.get_json(silent=True) or {}).get("cart", "")
    if LEGACY_MODE:
        cart = pickle.loads(base64.b64decode(cart))
        return jsonify({"items": len(cart)})
    return jsonify({"disabled": True})
