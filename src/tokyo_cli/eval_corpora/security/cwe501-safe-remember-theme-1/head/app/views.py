"""HTTP handlers."""

from flask import Flask, jsonify, request, session


app = Flask(__name__)

THEMES = ("light", "dark", "contrast")


@app.route("/remember-theme", methods=["GET", "POST"])
def remember_theme():
    """Remember theme."""
    theme = request.form.get("theme", "")
    session["theme"] = theme if theme in THEMES else "light"
    return jsonify({"ok": True})
