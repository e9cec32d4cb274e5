"""HTTP handlers."""

from flask import Flask, redirect, request

from app.services import after_login_url


app = Flask(__name__)


@app.route("/after-login-relative", methods=["GET", "POST"])
def after_login_relative():
    """After login relative."""
    next_value = request.form.get("next", "")
    return redirect(after_login_url(next_value))
