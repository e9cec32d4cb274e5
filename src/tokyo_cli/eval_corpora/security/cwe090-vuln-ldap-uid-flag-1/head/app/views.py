"""HTTP handlers."""

import os
import ldap

from flask import Flask, jsonify, request


app = Flask(__name__)

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/ldap-uid-flag", methods=["GET", "POST"])
def ldap_uid_flag():
    """Ldap uid flag."""
    uid = (request.get_json(silent=True) or {}).get("uid", "")
    if LEGACY_MODE:
        conn = ldap.initialize(LDAP_URL)
        entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + uid + ")")
        return jsonify({"found": len(entries)})
    return jsonify({"disabled": True})
