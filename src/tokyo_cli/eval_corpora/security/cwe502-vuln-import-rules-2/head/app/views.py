"""HTTP handlers."""

import yaml

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/import-rules", methods=["GET", "POST"])
def import_rules():
    """Import rules."""
    rules = request.args.get("rules", "")
    rules = yaml.unsafe_load(rules)
    return jsonify({"count": len(rules)})
