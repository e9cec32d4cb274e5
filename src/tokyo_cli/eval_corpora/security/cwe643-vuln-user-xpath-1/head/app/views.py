"""HTTP handlers."""

import os
from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)

USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")


@app.route("/user-xpath", methods=["GET", "POST"])
def user_xpath():
    """User xpath."""
    user = request.args.get("user", "")
    tree = etree.parse(USERS_XML)
    nodes = tree.xpath(f"//user[name='{user}']/email/text()")
    return jsonify({"emails": [str(n) for n in nodes]})
