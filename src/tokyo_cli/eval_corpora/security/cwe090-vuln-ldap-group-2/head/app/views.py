"""HTTP handlers."""

import os
import ldap

from flask import Flask, jsonify, request


app = Flask(__name__)

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=groups,dc=example,dc=com"


@app.route("/ldap-group", methods=["GET", "POST"])
def ldap_group():
    """Ldap group."""
    group = request.args.get("group", "")
    flt = "(&(objectClass=groupOfNames)(cn=%s))" % group
    entries = ldap.initialize(LDAP_URL).search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)
    return jsonify({"groups": len(entries)})
