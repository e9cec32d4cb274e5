"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import probe


app = Flask(__name__)


@app.route("/health-probe", methods=["GET", "POST"])
def health_probe():
    """Health probe."""
    verbose = request.form.get("verbose", "")
    return jsonify({"healthy": probe(), "verbose": verbose == "1"})
