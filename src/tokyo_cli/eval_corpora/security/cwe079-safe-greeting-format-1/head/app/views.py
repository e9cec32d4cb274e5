"""HTTP handlers."""

from markupsafe import Markup

from flask import Flask, make_response, request


app = Flask(__name__)


@app.route("/greeting-format", methods=["GET", "POST"])
def greeting_format():
    """Greeting format."""
    name = request.form.get("name", "")
    return make_response(Markup("<p>Hello {}!</p>").format(name))
