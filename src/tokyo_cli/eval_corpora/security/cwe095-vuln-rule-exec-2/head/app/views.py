"""HTTP handlers."""

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/rule-exec", methods=["GET", "POST"])
def rule_exec():
    """Rule exec."""
    rule = request.args.get("rule", "")
    scope = {"total": 0}
    exec(f"total = {rule}", scope)
    return jsonify({"total": scope["total"]})
