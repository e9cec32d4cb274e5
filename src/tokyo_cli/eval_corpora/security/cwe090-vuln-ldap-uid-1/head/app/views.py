"""HTTP handlers."""

import os
import ldap

from flask import Flask, jsonify, request


app = Flask(__name__)

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"


@app.route("/ldap-uid", methods=["GET", "POST"])
def ldap_uid():
    """Ldap uid."""
    uid = request.args.get("uid", "")
    conn = ldap.initialize(LDAP_URL)
    entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + uid + ")")
    return jsonify({"found": len(entries)})
