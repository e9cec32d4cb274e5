"""HTTP handlers."""

import os
from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)

USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")


@app.route("/user-xpath-vars", methods=["GET", "POST"])
def user_xpath_vars():
    """User xpath vars."""
    user = request.form.get("user", "")
    tree = etree.parse(USERS_XML)
    nodes = tree.xpath("//user[name=$name]/email/text()", name=user)
    return jsonify({"emails": [str(n) for n in nodes]})
