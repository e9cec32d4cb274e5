"""HTTP handlers."""

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/calculator", methods=["GET", "POST"])
def calculator():
    """Calculator."""
    expr = request.args.get("expr", "")
    value = eval(expr)
    return jsonify({"value": value})
