"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import run_cleanup


app = Flask(__name__)


@app.route("/cleanup-confirm", methods=["GET", "POST"])
def cleanup_confirm():
    """Cleanup confirm."""
    confirm = request.form.get("confirm", "")
    if confirm == "yes":
        run_cleanup()
    return jsonify({"ok": True})
