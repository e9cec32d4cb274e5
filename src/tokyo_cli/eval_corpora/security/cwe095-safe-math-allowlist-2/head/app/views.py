"""HTTP handlers."""

import math

from flask import Flask, abort, jsonify, request


app = Flask(__name__)

ALLOWED_FUNCS = ("sqrt", "log", "exp")
MATH = {name: getattr(math, name) for name in ALLOWED_FUNCS}


@app.route("/math-allowlist", methods=["GET", "POST"])
def math_allowlist():
    """Math allowlist."""
    fn = request.form.get("fn", "")
    if fn not in ALLOWED_FUNCS:
        abort(400)
    value = eval(fn + "(x)", {"__builtins__": {}}, {"x": 2.0, **MATH})
    return jsonify({"value": value})
