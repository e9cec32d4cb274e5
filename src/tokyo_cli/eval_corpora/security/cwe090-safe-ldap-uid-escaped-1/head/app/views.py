"""HTTP handlers."""

import os
import ldap
from ldap.filter import escape_filter_chars

from flask import Flask, jsonify, request


app = Flask(__name__)

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"


@app.route("/ldap-uid-escaped", methods=["GET", "POST"])
def ldap_uid_escaped():
    """Ldap uid escaped."""
    uid = request.form.get("uid", "")
    conn = ldap.initialize(LDAP_URL)
    entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + escape_filter_chars(uid) + ")")
    return jsonify({"found": len(entries)})
