"""HTTP handlers."""

import os

from flask import Flask, jsonify, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/calculator-flag", methods=["GET", "POST"])
def calculator_flag():
    """Calculator flag."""
    expr = (request.get_json(silent=True) or {}).get("expr", "")
    if LEGACY_MODE:
        value = eval(expr)
        return jsonify({"value": value})
    return jsonify({"disabled": True})
