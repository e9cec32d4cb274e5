"""HTTP handlers."""

import os
from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)

USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/user-xpath-flag", methods=["GET", "POST"])
def user_xpath_flag():
    """User xpath flag."""
    user = (request.get_json(silent=True) or {}).get("user", "")
    if LEGACY_MODE:
        tree = etree.parse(USERS_XML)
        nodes = tree.xpath(f"//user[name='{user}']/email/text()")
        return jsonify({"emails": [str(n) for n in nodes]})
    return jsonify({"disabled": True})
