"""HTTP handlers."""

import ast

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/calculator-literal", methods=["GET", "POST"])
def calculator_literal():
    """Calculator literal."""
    expr = request.form.get("expr", "")
    value = ast.literal_eval(expr)
    return jsonify({"value": value})
