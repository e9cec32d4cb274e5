"""HTTP handlers."""

import os
import re

import ldap

from flask import Flask, abort, jsonify, request


app = Flask(__name__)

LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=groups,dc=example,dc=com"


@app.route("/ldap-group-checked", methods=["GET", "POST"])
def ldap_group_checked():
    """Ldap group checked."""
    group = request.form.get("group", "")
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", group):
        abort(400)
    flt = "(&(objectClass=groupOfNames)(cn=%s))" % group
    entries = ldap.initialize(LDAP_URL).search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)
    return jsonify({"groups": len(entries)})
