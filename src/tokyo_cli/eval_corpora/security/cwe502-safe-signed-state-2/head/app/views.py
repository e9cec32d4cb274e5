"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import load_state


app = Flask(__name__)


@app.route("/signed-state", methods=["GET", "POST"])
def signed_state():
    """Signed state."""
    state = request.form.get("state", "")
    return jsonify({"state": load_state(state)})
