"""Generate the packaged SECURITY corpus of tokyo eval: src/tokyo_cli/eval_corpora/security/.

Python web code (Flask, Django, FastAPI handlers) for 13 CWEs. For each CWE, three
vulnerable "cores" and three safe look-alikes that a pattern matcher would flag (the same
sink behind a sanitizer, an allow-list, a parameterised API, a constant from configuration,
a signature check). Each core is rendered twice, rotating:

* the framework (Flask, Django, FastAPI) and its response/redirect/session/cookie API;
* the source of the input (query string, form, JSON body, header, cookie);
* the indirection: the sink inline in the handler, in a helper of the same module, in a
  helper in ``app/services.py``, or behind an intermediate variable.

Then, per CWE, the first vulnerable core once more behind a feature flag read in the handler
(``if LEGACY_MODE:``): a safe look-alike where the flag is a module constant ``False`` (a
dead branch: the sink can never run) and a vulnerable case where the flag comes from the
environment (the branch is live whenever an operator turns it on).

So 13 x (3 + 3) x 2 + 13 x 2 = 182 cases, half vulnerable. A vulnerable case labels the sink line
(``⟦⟧`` markers, removed when written; several markers make one ``lines`` range) with its
CWE; a safe case has ``expected: []`` and ``cwe:`` naming what it looks like (used for the
per-CWE false positive rate). Every case adds its files to an empty base, so every line is
an added line. Code injection is labelled CWE-95 and declared equivalent to CWE-94.

Run: ``python benchmarks/make_security_corpus.py`` (rewrites the directory).
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "tokyo_cli" / "eval_corpora" / "security"
MARK = " ⟦⟧"
FRAMEWORKS = ("flask", "django", "fastapi")


@dataclass
class Core:
    key: str
    cwe: int
    vulnerable: bool
    param: str
    body: str  # handler body after the input is read into @V@ (4-space relative indentation)
    helper: str = ""  # module-level helper function(s) the body calls
    imports: str = ""
    consts: str = ""
    flag: str = ""  # a module constant of the handler's module (behind_flag)


CORES: list[Core] = []


def core(
    key: str, cwe: int, vulnerable: bool, param: str, body: str, helper: str = "", imports: str = "", consts: str = ""
) -> None:
    CORES.append(
        Core(key, cwe, vulnerable, param, body.strip("\n"), helper.strip("\n"), imports.strip("\n"), consts.strip("\n"))
    )


V, S = True, False

# ------------------------------------------------------------------ CWE-89 SQL injection
core(
    "user_lookup",
    89,
    V,
    "name",
    """
rows = find_users(@V@)
return JSON({"users": rows})""",
    helper="""
def find_users(name):
    conn = sqlite3.connect(DB_PATH)
    cur = conn.execute("SELECT id, email FROM users WHERE name = '%s'" % name)  ⟦⟧
    return cur.fetchall()""",
    imports="import sqlite3",
    consts='DB_PATH = os.environ.get("APP_DB", "app.db")',
)
core(
    "order_sort",
    89,
    V,
    "sort",
    """
order_by = @V@ or "created_at"
sql = "SELECT id, total FROM orders ORDER BY " + order_by  ⟦⟧
rows = sqlite3.connect(DB_PATH).execute(sql).fetchall()  ⟦⟧
return JSON({"orders": rows})""",
    imports="import sqlite3",
    consts='DB_PATH = os.environ.get("APP_DB", "app.db")',
)
core(
    "cart_delete",
    89,
    V,
    "token",
    """
delete_cart(@V@)
return JSON({"deleted": True})""",
    helper="""
def delete_cart(token):
    with sqlite3.connect(DB_PATH) as conn:
        query = "DELETE FROM carts WHERE token = '{}'".format(token)  ⟦⟧
        conn.execute(query)  ⟦⟧""",
    imports="import sqlite3",
    consts='DB_PATH = os.environ.get("APP_DB", "app.db")',
)
core(
    "user_lookup_param",
    89,
    S,
    "name",
    """
rows = find_users(@V@)
return JSON({"users": rows})""",
    helper="""
def find_users(name):
    conn = sqlite3.connect(DB_PATH)
    cur = conn.execute("SELECT id, email FROM users WHERE name = ?", (name,))
    return cur.fetchall()""",
    imports="import sqlite3",
    consts='DB_PATH = os.environ.get("APP_DB", "app.db")',
)
core(
    "order_sort_allowlist",
    89,
    S,
    "sort",
    """
order_by = @V@ if @V@ in SORTABLE else "created_at"
sql = "SELECT id, total FROM orders ORDER BY " + order_by
rows = sqlite3.connect(DB_PATH).execute(sql).fetchall()
return JSON({"orders": rows})""",
    imports="import sqlite3",
    consts="""DB_PATH = os.environ.get("APP_DB", "app.db")
SORTABLE = {"created_at", "total", "status"}""",
)
core(
    "count_by_owner",
    89,
    S,
    "owner",
    """
sql = f"SELECT count(*) FROM {TABLE} WHERE owner = ?"
count = sqlite3.connect(DB_PATH).execute(sql, (@V@,)).fetchone()[0]
return JSON({"count": count})""",
    imports="import sqlite3",
    consts='''DB_PATH = os.environ.get("APP_DB", "app.db")
TABLE = "invoices"''',
)

# ------------------------------------------------------------------ CWE-78 command injection
core(
    "ping_host",
    78,
    V,
    "host",
    """
proc = subprocess.run(f"ping -c 1 {@V@}", shell=True, capture_output=True, text=True)  ⟦⟧
return JSON({"output": proc.stdout})""",
    imports="import subprocess",
)
core(
    "thumbnail",
    78,
    V,
    "image",
    """
make_thumbnail(@V@)
return JSON({"ok": True})""",
    helper="""
def make_thumbnail(filename):
    src = os.path.join(UPLOADS, filename)
    os.system("convert " + src + " -resize 128x128 " + src + ".thumb.png")  ⟦⟧""",
    consts='UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")',
)
core(
    "git_log",
    78,
    V,
    "branch",
    """
return JSON({"log": recent_commits(@V@)})""",
    helper="""
def recent_commits(branch):
    out = subprocess.check_output("git log --oneline -n 20 " + branch, shell=True, cwd=REPO_DIR)  ⟦⟧
    return out.decode().splitlines()""",
    imports="import subprocess",
    consts='REPO_DIR = os.environ.get("REPO_DIR", "/srv/repo")',
)
core(
    "ping_host_argv",
    78,
    S,
    "host",
    """
proc = subprocess.run(["ping", "-c", "1", @V@], capture_output=True, text=True)
return JSON({"output": proc.stdout})""",
    imports="import subprocess",
)
core(
    "ping_host_quoted",
    78,
    S,
    "host",
    """
proc = subprocess.run(f"ping -c 1 {shlex.quote(@V@)}", shell=True, capture_output=True, text=True)
return JSON({"output": proc.stdout})""",
    imports="import shlex\nimport subprocess",
)
core(
    "cleanup_confirm",
    78,
    S,
    "confirm",
    """
if @V@ == "yes":
    run_cleanup()
return JSON({"ok": True})""",
    helper="""
def run_cleanup():
    os.system(CLEANUP_CMD)""",
    consts='CLEANUP_CMD = "find /tmp/app-cache -type f -mtime +1 -delete"',
)

# ------------------------------------------------------------------ CWE-22 path traversal
core(
    "download",
    22,
    V,
    "file",
    """
with open(os.path.join(UPLOADS, @V@), "rb") as fh:  ⟦⟧
    data = fh.read()
return JSON({"size": len(data)})""",
    consts='UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")',
)
core(
    "report",
    22,
    V,
    "report",
    """
return JSON({"report": read_report(@V@)})""",
    helper="""
def read_report(name):
    path = Path(REPORTS) / name
    return path.read_text()  ⟦⟧""",
    imports="from pathlib import Path",
    consts='REPORTS = os.environ.get("REPORT_DIR", "/srv/reports")',
)
core(
    "workspace_delete",
    22,
    V,
    "workspace",
    """
shutil.rmtree(os.path.join(WORKSPACES, @V@))  ⟦⟧
return JSON({"deleted": True})""",
    imports="import shutil",
    consts='WORKSPACES = "/srv/workspaces"',
)
core(
    "download_checked",
    22,
    S,
    "file",
    """
base = os.path.realpath(UPLOADS)
path = os.path.realpath(os.path.join(base, @V@))
if os.path.commonpath([base, path]) != base:
    @REJECT@
with open(path, "rb") as fh:
    data = fh.read()
return JSON({"size": len(data)})""",
    consts='UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")',
)
core(
    "report_basename",
    22,
    S,
    "report",
    """
return JSON({"report": read_report(@V@)})""",
    helper="""
def read_report(name):
    path = Path(REPORTS) / os.path.basename(name)
    return path.read_text()""",
    imports="from pathlib import Path",
    consts='REPORTS = os.environ.get("REPORT_DIR", "/srv/reports")',
)
core(
    "workspace_known",
    22,
    S,
    "workspace",
    """
if @V@ not in list_workspaces():
    @REJECT@
shutil.rmtree(os.path.join(WORKSPACES, @V@))
return JSON({"deleted": True})""",
    helper="""
def list_workspaces():
    return {entry.name for entry in os.scandir(WORKSPACES) if entry.is_dir()}""",
    imports="import shutil",
    consts='WORKSPACES = "/srv/workspaces"',
)

# ------------------------------------------------------------------ CWE-95 code injection
core(
    "calculator",
    95,
    V,
    "expr",
    """
value = eval(@V@)  ⟦⟧
return JSON({"value": value})""",
)
core(
    "formula",
    95,
    V,
    "formula",
    """
return JSON({"price": apply_formula(@V@, 100.0)})""",
    helper="""
def apply_formula(formula, base):
    func = eval("lambda price: " + formula)  ⟦⟧
    return func(base)""",
)
core(
    "rule_exec",
    95,
    V,
    "rule",
    """
scope = {"total": 0}
exec(f"total = {@V@}", scope)  ⟦⟧
return JSON({"total": scope["total"]})""",
)
core(
    "calculator_literal",
    95,
    S,
    "expr",
    """
value = ast.literal_eval(@V@)
return JSON({"value": value})""",
    imports="import ast",
)
core(
    "formula_ops",
    95,
    S,
    "op",
    """
return JSON({"value": evaluate(@V@, 6, 3)})""",
    helper="""
def evaluate(op, left, right):
    func = OPERATORS.get(op)
    if func is None:
        raise ValueError("unknown operator")
    return func(left, right)""",
    imports="import operator",
    consts='OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}',
)
core(
    "math_allowlist",
    95,
    S,
    "fn",
    """
if @V@ not in ALLOWED_FUNCS:
    @REJECT@
value = eval(@V@ + "(x)", {"__builtins__": {}}, {"x": 2.0, **MATH})
return JSON({"value": value})""",
    imports="import math",
    consts='ALLOWED_FUNCS = ("sqrt", "log", "exp")\nMATH = {name: getattr(math, name) for name in ALLOWED_FUNCS}',
)

# ------------------------------------------------------------------ CWE-502 deserialization
core(
    "restore_cart",
    502,
    V,
    "cart",
    """
cart = pickle.loads(base64.b64decode(@V@))  ⟦⟧
return JSON({"items": len(cart)})""",
    imports="import base64\nimport pickle",
)
core(
    "import_config",
    502,
    V,
    "config",
    """
return JSON({"keys": sorted(parse_config(@V@))})""",
    helper="""
def parse_config(text):
    return yaml.load(text, Loader=yaml.Loader)  ⟦⟧""",
    imports="import yaml",
)
core(
    "import_rules",
    502,
    V,
    "rules",
    """
rules = yaml.unsafe_load(@V@)  ⟦⟧
return JSON({"count": len(rules)})""",
    imports="import yaml",
)
core(
    "restore_cart_json",
    502,
    S,
    "cart",
    """
cart = json.loads(base64.b64decode(@V@))
return JSON({"items": len(cart)})""",
    imports="import base64\nimport json",
)
core(
    "import_config_safe",
    502,
    S,
    "config",
    """
return JSON({"keys": sorted(parse_config(@V@))})""",
    helper="""
def parse_config(text):
    return yaml.safe_load(text)""",
    imports="import yaml",
)
core(
    "signed_state",
    502,
    S,
    "state",
    """
return JSON({"state": load_state(@V@)})""",
    helper="""
def load_state(token):
    blob, _, mac = base64.b64decode(token).rpartition(b".")
    expected = hmac.new(SECRET_KEY, blob, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(mac, expected):
        raise ValueError("bad signature")
    return pickle.loads(blob)""",
    imports="import base64\nimport hashlib\nimport hmac\nimport pickle",
    consts='SECRET_KEY = os.environ["STATE_SIGNING_KEY"].encode()',
)

# ------------------------------------------------------------------ CWE-601 open redirect
core(
    "login_next",
    601,
    V,
    "next",
    """
return REDIRECT(@V@)  ⟦⟧""",
)
core(
    "logout_target",
    601,
    V,
    "target",
    """
target = @V@ or "/"
return REDIRECT(target)  ⟦⟧""",
)
core(
    "after_login",
    601,
    V,
    "next",
    """
return REDIRECT(after_login_url(@V@))  ⟦⟧""",
    helper='''
def after_login_url(nxt):
    return nxt if nxt else "/account"''',
)
core(
    "login_next_host",
    601,
    S,
    "next",
    """
parts = urlparse(@V@.replace("\\\\", "/"))  # browsers read a backslash as a slash
if parts.scheme not in ("", "https") or parts.netloc not in ("", ALLOWED_HOST) or not @V@.isprintable():
    @V@ = "/"
return REDIRECT(@V@)""",
    imports="from urllib.parse import urlparse",
    consts='ALLOWED_HOST = os.environ.get("APP_HOST", "shop.example.com")',
)
core(
    "logout_mapping",
    601,
    S,
    "target",
    """
target = DESTINATIONS.get(@V@, "/")
return REDIRECT(target)""",
    consts='DESTINATIONS = {"home": "/", "cart": "/cart", "orders": "/account/orders"}',
)
core(
    "after_login_relative",
    601,
    S,
    "next",
    """
return REDIRECT(after_login_url(@V@))""",
    helper="""
def after_login_url(nxt):
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\\\" in nxt or not nxt.isprintable():
        return "/account"
    return nxt""",
)

# ------------------------------------------------------------------ CWE-79 XSS
core(
    "greeting",
    79,
    V,
    "name",
    """
return HTML(Markup(f"<p>Hello {@V@}!</p>"))  ⟦⟧""",
    imports="from markupsafe import Markup",
)
core(
    "search_page",
    79,
    V,
    "q",
    """
page = "<h1>Results for " + @V@ + "</h1>"  ⟦⟧
return HTML(page)  ⟦⟧""",
)
core(
    "profile_card",
    79,
    V,
    "bio",
    """
return HTML(render_card(@V@))""",
    helper="""
def render_card(bio):
    env = Environment(autoescape=False)  ⟦⟧
    return env.from_string(CARD).render(bio=bio)  ⟦⟧""",
    imports="from jinja2 import Environment",
    consts='CARD = "<div class=\\"card\\">{{ bio }}</div>"',
)
core(
    "greeting_format",
    79,
    S,
    "name",
    """
return HTML(Markup("<p>Hello {}!</p>").format(@V@))""",
    imports="from markupsafe import Markup",
)
core(
    "search_page_escaped",
    79,
    S,
    "q",
    """
page = "<h1>Results for " + html.escape(@V@) + "</h1>"
return HTML(page)""",
    imports="import html",
)
core(
    "profile_card_autoescape",
    79,
    S,
    "bio",
    """
return HTML(render_card(@V@))""",
    helper="""
def render_card(bio):
    env = Environment(autoescape=select_autoescape(default_for_string=True))
    return env.from_string(CARD).render(bio=bio)""",
    imports="from jinja2 import Environment, select_autoescape",
    consts='CARD = "<div class=\\"card\\">{{ bio }}</div>"',
)

# ------------------------------------------------------------------ CWE-643 XPath injection
core(
    "user_xpath",
    643,
    V,
    "user",
    """
tree = etree.parse(USERS_XML)
nodes = tree.xpath(f"//user[name='{@V@}']/email/text()")  ⟦⟧
return JSON({"emails": [str(n) for n in nodes]})""",
    imports="from lxml import etree",
    consts='USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")',
)
core(
    "books_by_author",
    643,
    V,
    "author",
    """
return JSON({"titles": titles_by(@V@)})""",
    helper="""
def titles_by(author):
    root = etree.parse(CATALOG).getroot()
    return [t.text for t in root.xpath("//book[@author='" + author + "']/title")]  ⟦⟧""",
    imports="from lxml import etree",
    consts='CATALOG = "/srv/data/catalog.xml"',
)
core(
    "login_xpath",
    643,
    V,
    "login",
    """
expr = "//account[login='%s' and active='yes']" % @V@  ⟦⟧
found = etree.parse(ACCOUNTS).xpath(expr)  ⟦⟧
return JSON({"exists": bool(found)})""",
    imports="from lxml import etree",
    consts='ACCOUNTS = "/srv/data/accounts.xml"',
)
core(
    "user_xpath_vars",
    643,
    S,
    "user",
    """
tree = etree.parse(USERS_XML)
nodes = tree.xpath("//user[name=$name]/email/text()", name=@V@)
return JSON({"emails": [str(n) for n in nodes]})""",
    imports="from lxml import etree",
    consts='USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")',
)
core(
    "books_by_author_checked",
    643,
    S,
    "author",
    """
return JSON({"titles": titles_by(@V@)})""",
    helper="""
def titles_by(author):
    if not re.fullmatch(r"[A-Za-z .-]{1,64}", author):
        raise ValueError("bad author")
    root = etree.parse(CATALOG).getroot()
    return [t.text for t in root.xpath("//book[@author='" + author + "']/title")]""",
    imports="import re\n\nfrom lxml import etree",
    consts='CATALOG = "/srv/data/catalog.xml"',
)
core(
    "login_scan",
    643,
    S,
    "login",
    """
accounts = etree.parse(ACCOUNTS).xpath("//account[active='yes']")
found = [a for a in accounts if a.findtext("login") == @V@]
return JSON({"exists": bool(found)})""",
    imports="from lxml import etree",
    consts='ACCOUNTS = "/srv/data/accounts.xml"',
)

# ------------------------------------------------------------------ CWE-90 LDAP injection
core(
    "ldap_uid",
    90,
    V,
    "uid",
    """
conn = ldap.initialize(LDAP_URL)
entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + @V@ + ")")  ⟦⟧
return JSON({"found": len(entries)})""",
    imports="import ldap",
    consts='LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")\nBASE_DN = "ou=people,dc=example,dc=com"',
)
core(
    "ldap_mail",
    90,
    V,
    "mail",
    """
return JSON({"people": find_people(@V@)})""",
    helper="""
def find_people(mail):
    conn = Connection(Server(LDAP_URL), auto_bind=True)
    conn.search(BASE_DN, f"(&(objectClass=person)(mail={mail}))", attributes=["cn"])  ⟦⟧
    return [str(e.cn) for e in conn.entries]""",
    imports="from ldap3 import Connection, Server",
    consts='LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")\nBASE_DN = "ou=people,dc=example,dc=com"',
)
core(
    "ldap_group",
    90,
    V,
    "group",
    """
flt = "(&(objectClass=groupOfNames)(cn=%s))" % @V@  ⟦⟧
entries = ldap.initialize(LDAP_URL).search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)  ⟦⟧
return JSON({"groups": len(entries)})""",
    imports="import ldap",
    consts='LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")\nBASE_DN = "ou=groups,dc=example,dc=com"',
)
core(
    "ldap_uid_escaped",
    90,
    S,
    "uid",
    """
conn = ldap.initialize(LDAP_URL)
entries = conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(uid=" + escape_filter_chars(@V@) + ")")
return JSON({"found": len(entries)})""",
    imports="import ldap\nfrom ldap.filter import escape_filter_chars",
    consts='LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")\nBASE_DN = "ou=people,dc=example,dc=com"',
)
core(
    "ldap_mail_escaped",
    90,
    S,
    "mail",
    """
return JSON({"people": find_people(@V@)})""",
    helper="""
def find_people(mail):
    conn = Connection(Server(LDAP_URL), auto_bind=True)
    conn.search(BASE_DN, f"(&(objectClass=person)(mail={escape_filter_chars(mail)}))", attributes=["cn"])
    return [str(e.cn) for e in conn.entries]""",
    imports="from ldap3 import Connection, Server\nfrom ldap3.utils.conv import escape_filter_chars",
    consts='LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")\nBASE_DN = "ou=people,dc=example,dc=com"',
)
core(
    "ldap_group_checked",
    90,
    S,
    "group",
    """
if not re.fullmatch(r"[a-z0-9_-]{1,32}", @V@):
    @REJECT@
flt = "(&(objectClass=groupOfNames)(cn=%s))" % @V@
entries = ldap.initialize(LDAP_URL).search_s(BASE_DN, ldap.SCOPE_SUBTREE, flt)
return JSON({"groups": len(entries)})""",
    imports="import re\n\nimport ldap",
    consts='LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")\nBASE_DN = "ou=groups,dc=example,dc=com"',
)

# ------------------------------------------------------------------ CWE-611 XXE
core(
    "import_feed",
    611,
    V,
    "feed",
    """
parser = etree.XMLParser(resolve_entities=True)  ⟦⟧
doc = etree.fromstring(@V@.encode(), parser)  ⟦⟧
return JSON({"items": len(doc.findall("item"))})""",
    imports="from lxml import etree",
)
core(
    "import_invoice",
    611,
    V,
    "invoice",
    """
return JSON({"total": invoice_total(@V@)})""",
    helper="""
def invoice_total(xml_text):
    parser = etree.XMLParser(load_dtd=True, no_network=False)  ⟦⟧
    root = etree.fromstring(xml_text.encode(), parser=parser)  ⟦⟧
    return sum(float(x.text) for x in root.iter("amount"))""",
    imports="from lxml import etree",
)
core(
    "sitemap_upload",
    611,
    V,
    "sitemap",
    """
parser = etree.XMLParser(dtd_validation=True, resolve_entities=True)  ⟦⟧
urls = etree.fromstring(@V@.encode(), parser).findall(".//loc")  ⟦⟧
return JSON({"urls": len(urls)})""",
    imports="from lxml import etree",
)
core(
    "import_feed_defused",
    611,
    S,
    "feed",
    """
doc = DefusedET.fromstring(@V@)
return JSON({"items": len(doc.findall("item"))})""",
    imports="import defusedxml.ElementTree as DefusedET",
)
core(
    "import_invoice_stdlib",
    611,
    S,
    "invoice",
    """
return JSON({"total": invoice_total(@V@)})""",
    helper="""
def invoice_total(xml_text):
    root = ET.fromstring(xml_text)  # expat: external entities are never fetched
    return sum(float(x.text) for x in root.iter("amount"))""",
    imports="import xml.etree.ElementTree as ET",
)
core(
    "sitemap_upload_hardened",
    611,
    S,
    "sitemap",
    """
parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
urls = etree.fromstring(@V@.encode(), parser).findall(".//loc")
return JSON({"urls": len(urls)})""",
    imports="from lxml import etree",
)

# ------------------------------------------------------------------ CWE-918 SSRF
core(
    "preview",
    918,
    V,
    "url",
    """
resp = requests.get(@V@, timeout=5)  ⟦⟧
return JSON({"status": resp.status_code, "length": len(resp.content)})""",
    imports="import requests",
)
core(
    "webhook_test",
    918,
    V,
    "callback",
    """
with urllib.request.urlopen(@V@, timeout=5) as resp:  ⟦⟧
    code = resp.status
return JSON({"status": code})""",
    imports="import urllib.request",
)
core(
    "avatar_fetch",
    918,
    V,
    "avatar",
    """
return JSON({"bytes": fetch_avatar(@V@)})""",
    helper="""
def fetch_avatar(url):
    with httpx.Client(timeout=5) as client:
        return len(client.get(url).content)  ⟦⟧""",
    imports="import httpx",
)
core(
    "preview_allowlist",
    918,
    S,
    "url",
    """
if urlparse(@V@).hostname not in ALLOWED_HOSTS:
    @REJECT@
resp = requests.get(@V@, timeout=5, allow_redirects=False)
return JSON({"status": resp.status_code, "length": len(resp.content)})""",
    imports="from urllib.parse import urlparse\n\nimport requests",
    consts='ALLOWED_HOSTS = {"images.example.com", "cdn.example.com"}',
)
core(
    "user_api",
    918,
    S,
    "uid",
    """
resp = requests.get(f"{API_BASE}/users/{quote(@V@, safe='')}", timeout=5)
return JSON({"status": resp.status_code})""",
    imports="from urllib.parse import quote\n\nimport requests",
    consts='API_BASE = os.environ.get("USERS_API", "https://users.internal.example.com")',
)
core(
    "health_probe",
    918,
    S,
    "verbose",
    """
return JSON({"healthy": probe(), "verbose": @V@ == "1"})""",
    helper="""
def probe():
    with urllib.request.urlopen(HEALTH_URL, timeout=2) as resp:
        return resp.status == 200""",
    imports="import urllib.request",
    consts='HEALTH_URL = os.environ.get("HEALTH_URL", "https://status.example.com/health")',
)

# ------------------------------------------------------------------ CWE-501 trust boundary
core(
    "remember_user",
    501,
    V,
    "username",
    """
SESSION["username"] = @V@  ⟦⟧
return JSON({"ok": True})""",
)
core(
    "set_admin",
    501,
    V,
    "admin",
    """
SESSION["is_admin"] = @V@ == "true"  ⟦⟧
return JSON({"ok": True})""",
)
core(
    "store_role",
    501,
    V,
    "role",
    """
remember_role(SESSION, @V@)
return JSON({"ok": True})""",
    helper="""
def remember_role(store, role):
    store["role"] = role  ⟦⟧
    store["role_set_at"] = time.time()""",
    imports="import time",
)
core(
    "remember_theme",
    501,
    S,
    "theme",
    """
SESSION["theme"] = @V@ if @V@ in THEMES else "light"
return JSON({"ok": True})""",
    consts='THEMES = ("light", "dark", "contrast")',
)
core(
    "login_session",
    501,
    S,
    "password",
    """
user = authenticate("alice", @V@)
if user is None:
    @REJECT@
SESSION["user_id"] = user["id"]
return JSON({"ok": True})""",
    helper="""
def authenticate(username, password):
    record = USERS.get(username)
    if record and hmac.compare_digest(record["hash"], hashlib.sha256(password.encode()).hexdigest()):
        return record
    return None""",
    imports="import hashlib\nimport hmac",
    consts='USERS = {"alice": {"id": 1, "hash": os.environ.get("ALICE_HASH", "")}}',
)
core(
    "csrf_token",
    501,
    S,
    "form",
    """
SESSION["csrf"] = secrets.token_hex(16)
return JSON({"form": @V@ in FORMS})""",
    imports="import secrets",
    consts='FORMS = ("checkout", "profile")',
)

# ------------------------------------------------------------------ CWE-614 insecure cookie
core(
    "session_cookie",
    614,
    V,
    "remember",
    """
resp = JSON({"ok": True})
resp.set_cookie("session_id", new_token(@V@))  ⟦⟧
return resp""",
    helper="""
def new_token(remember):
    return secrets.token_urlsafe(32) + ("-r" if remember else "")""",
    imports="import secrets",
)
core(
    "auth_cookie",
    614,
    V,
    "user",
    """
resp = JSON({"user": @V@})
resp.set_cookie("auth", sign(@V@), httponly=True, secure=False)  ⟦⟧
return resp""",
    helper="""
def sign(value):
    return value + "." + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()""",
    imports="import hashlib\nimport hmac",
    consts='KEY = os.environ["COOKIE_KEY"].encode()',
)
core(
    "cart_cookie",
    614,
    V,
    "cart",
    """
resp = JSON({"cart": @V@})
resp.set_cookie("cart_session", secrets.token_hex(16), samesite="Lax")  ⟦⟧
return resp""",
    imports="import secrets",
)
core(
    "session_cookie_secure",
    614,
    S,
    "remember",
    """
resp = JSON({"ok": True})
resp.set_cookie("session_id", new_token(@V@), secure=True, httponly=True, samesite="Lax")
return resp""",
    helper="""
def new_token(remember):
    return secrets.token_urlsafe(32) + ("-r" if remember else "")""",
    imports="import secrets",
)
core(
    "auth_cookie_opts",
    614,
    S,
    "user",
    """
resp = JSON({"user": @V@})
resp.set_cookie("auth", sign(@V@), **COOKIE_OPTIONS)
return resp""",
    helper="""
def sign(value):
    return value + "." + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()""",
    imports="import hashlib\nimport hmac",
    consts="""KEY = os.environ["COOKIE_KEY"].encode()
COOKIE_OPTIONS = {"secure": True, "httponly": True, "samesite": "Strict"}""",
)
core(
    "cart_cookie_clear",
    614,
    S,
    "cart",
    """
resp = JSON({"cart": @V@})
resp.delete_cookie("cart_session")
return resp""",
)

# ------------------------------------------------------------------ frameworks

SOURCES = {
    "flask": [
        'request.args.get("@P@", "")',
        'request.form.get("@P@", "")',
        '(request.get_json(silent=True) or {}).get("@P@", "")',
        'request.headers.get("X-@P@", "")',
        'request.cookies.get("@P@", "")',
    ],
    "django": [
        'request.GET.get("@P@", "")',
        'request.POST.get("@P@", "")',
        'json.loads(request.body or b"{}").get("@P@", "")',
        'request.headers.get("X-@P@", "")',
        'request.COOKIES.get("@P@", "")',
    ],
    "fastapi": [
        'request.query_params.get("@P@", "")',
        '(await request.form()).get("@P@", "")',
        '(await request.json()).get("@P@", "")',
        'request.headers.get("x-@P@", "")',
        'request.cookies.get("@P@", "")',
    ],
}
TOKENS = {
    "flask": {
        "JSON(": "jsonify(",
        "REDIRECT(": "redirect(",
        "HTML(": "make_response(",
        "SESSION[": "session[",
        "@REJECT@": "abort(400)",
    },
    "django": {
        "JSON(": "JsonResponse(",
        "REDIRECT(": "HttpResponseRedirect(",
        "HTML(": "HttpResponse(",
        "SESSION[": "request.session[",
        "@REJECT@": 'raise SuspiciousOperation("invalid input")',
    },
    "fastapi": {
        "JSON(": "JSONResponse(",
        "REDIRECT(": "RedirectResponse(",
        "HTML(": "HTMLResponse(",
        "SESSION[": "request.session[",
        "@REJECT@": 'raise HTTPException(status_code=400, detail="invalid input")',
    },
}
# When a helper takes the session (store_role), the handler passes it as an argument.
SESSION_ARG = {"flask": "session", "django": "request.session", "fastapi": "request.session"}


def framework_imports(fw: str, code: str, source: str) -> list[str]:
    used = [name for tok, name in TOKENS[fw].items() if tok in code and tok != "@REJECT@"]
    if fw == "flask":
        names = sorted(
            {"Flask", "request", *(n.rstrip("([") for n in used)} | ({"abort"} if "@REJECT@" in code else set())
        )
        return [f"from flask import {', '.join(names)}"]
    if fw == "django":
        out = []
        names = sorted({n.rstrip("(") for n in used if not n.startswith("request.")})
        if "@REJECT@" in code:
            out.append("from django.core.exceptions import SuspiciousOperation")
        if names:
            out.append(f"from django.http import {', '.join(names)}")
        out.append("from django.views.decorators.http import require_http_methods")
        return out
    names = sorted({n.rstrip("(") for n in used if not n.startswith("request.")})
    out = [
        "from fastapi import FastAPI, HTTPException, Request"
        if "@REJECT@" in code
        else "from fastapi import FastAPI, Request"
    ]
    if names:
        out.append(f"from fastapi.responses import {', '.join(names)}")
    return out


def indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line.strip() else "" for line in text.split("\n"))


def apply_tokens(text: str, fw: str) -> str:
    for tok, repl in TOKENS[fw].items():
        text = text.replace(tok, repl)
    return text


def render(c: Core, variant: int, index: int) -> tuple[dict[str, str], dict[str, list[int]]]:
    """The case's files and, per file, the marked lines."""
    fw = FRAMEWORKS[(index + variant) % 3]
    source = SOURCES[fw][(index * 2 + variant) % len(SOURCES[fw])].replace("@P@", c.param)
    style = ("inline", "helper-module", "variable")[(index + 2 * variant) % 3]
    if style == "helper-module" and not c.helper:
        style = "inline"
    var = c.param if c.param.isidentifier() and c.param not in ("next", "filter") else f"{c.param}_value"
    body = c.body
    lines = [f"{var} = {source}"]
    if style == "variable":
        lines.append(f"cleaned = {var}.strip()")
        var = "cleaned"
    body = body.replace("@V@", var).replace("remember_role(SESSION, ", f"remember_role({SESSION_ARG[fw]}, ")
    body = "\n".join([*lines, body])
    helper = c.helper
    handler_name = c.key
    route = "/" + c.key.replace("_", "-")
    doc = f'"""{c.key.replace("_", " ").capitalize()}."""'
    if fw == "flask":
        route_line = f'@app.route("{route}", methods=["GET", "POST"])'
        handler = f"{route_line}\ndef {handler_name}():\n{indent(doc, 4)}\n{indent(body, 4)}"
        setup = "app = Flask(__name__)"
    elif fw == "django":
        handler = (
            f'@require_http_methods(["GET", "POST"])\ndef {handler_name}(request):\n{indent(doc, 4)}\n{indent(body, 4)}'
        )
        setup = ""
    else:
        handler = (
            f'@app.api_route("{route}", methods=["GET", "POST"])\nasync def {handler_name}(request: Request):\n'
            f"{indent(doc, 4)}\n{indent(body, 4)}"
        )
        setup = "app = FastAPI()"
    handler = apply_tokens(handler, fw)
    code_all = c.body + c.helper
    fw_imports = framework_imports(fw, code_all, source)
    files: dict[str, str] = {}
    consts = c.consts
    needs_os = "os." in consts or "os." in c.body or "os." in c.helper
    std = ["import os"] if needs_os else []
    if "json.loads(request.body" in source and "import json" not in c.imports:
        std = sorted([*std, "import json"])
    view_std = sorted({*std, "import os"}) if "os." in c.flag else std
    if style == "helper-module":
        names = re.findall(r"^def (\w+)", helper, re.M)
        svc = [f'"""Helpers for the {c.key.replace("_", " ")} view."""', ""]
        svc += std + ([c.imports] if c.imports else [])
        svc += ["", ""] + ([consts, "", ""] if consts else []) + [apply_tokens(helper, fw)]
        files["app/services.py"] = "\n".join(svc).replace("\n\n\n\n", "\n\n\n") + "\n"
        head = ['"""HTTP handlers."""'] + [""] + ([*view_std, ""] if c.flag and view_std else []) + fw_imports
        head += ["", f"from app.services import {', '.join(names)}"]
        mod = head + ["", ""] + ([setup, "", ""] if setup else []) + ([c.flag, "", ""] if c.flag else []) + [handler]
    else:
        head = ['"""HTTP handlers."""', ""] + view_std + ([c.imports] if c.imports else [])
        head += ([""] if (view_std or c.imports) else []) + fw_imports
        mod = head + ["", ""] + ([setup, ""] if setup else []) + ([consts, ""] if consts else [])
        mod += [c.flag, ""] if c.flag else []
        if helper:
            mod += ["", apply_tokens(helper, fw), ""]
        mod += ["", handler]
    view = "app/views.py" if fw != "fastapi" else "app/main.py"
    files[view] = re.sub(r"\n{4,}", "\n\n\n", "\n".join(mod)) + "\n"
    files["app/__init__.py"] = ""
    marks: dict[str, list[int]] = {}
    for path, text in list(files.items()):
        out = []
        for n, line in enumerate(text.split("\n"), 1):
            if line.endswith(MARK):
                marks.setdefault(path, []).append(n)
                line = line[: -len(MARK)].rstrip()
            out.append(line)
        files[path] = "\n".join(out)
    return files, marks


def behind_flag(c: Core, live: bool) -> Core:
    """``c`` with its handler body behind ``if LEGACY_MODE:``: a flag from the environment
    (``live``, still vulnerable) or the constant False (a dead branch, safe, marks dropped)."""
    body = "if LEGACY_MODE:\n" + indent(c.body, 4) + '\nreturn JSON({"disabled": True})'
    flag = 'LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"' if live else "LEGACY_MODE = False"
    if live:
        return Core(c.key + "_flag", c.cwe, True, c.param, body, c.helper, c.imports, c.consts, flag)
    unmark = lambda text: "\n".join(line.replace(MARK, "").rstrip() for line in text.split("\n"))  # noqa: E731
    return Core(
        c.key + "_dead_branch", c.cwe, False, c.param, unmark(body), unmark(c.helper), c.imports, c.consts, flag
    )


def main() -> int:
    import yaml

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    (OUT / "corpus.yaml").write_text(
        "# Generated by benchmarks/make_security_corpus.py: do not edit, change the generator.\n"
        "version: 1\nname: security\nformat: cases\n"
        "# CWE-95 (eval injection) is a kind of CWE-94 (code injection): either counts.\n"
        "equivalences:\n  - [95, 94]\n",
        encoding="utf-8",
    )
    per_cwe: dict[int, list[int]] = {}
    index_of: dict[int, int] = {}
    flagged: list[Core] = []
    for c in CORES:
        if c.vulnerable and not any(f.cwe == c.cwe for f in flagged):
            flagged += [behind_flag(c, live=True), behind_flag(c, live=False)]
    for c in [*CORES, *flagged]:
        i = index_of.get(c.cwe, 0)
        index_of[c.cwe] = i + 1
        for variant in (0, 1) if c in CORES else (0,):
            files, marks = render(c, variant, i)
            if c.vulnerable != bool(marks):
                raise SystemExit(f"{c.key}: vulnerable={c.vulnerable} but {len(marks)} marked file(s)")
            name = f"cwe{c.cwe:03d}-{'vuln' if c.vulnerable else 'safe'}-{c.key.replace('_', '-')}-{variant + 1}"
            case = OUT / name
            for path, text in files.items():
                (case / "head" / path).parent.mkdir(parents=True, exist_ok=True)
                (case / "head" / path).write_text(text, encoding="utf-8")
            expected = [
                {
                    "path": p,
                    **({"line": ls[0]} if len(ls) == 1 else {"lines": [min(ls), max(ls)]}),
                    "cwe": c.cwe,
                    "category": "security",
                }
                for p, ls in marks.items()
            ]
            data = {"cwe": c.cwe, "expected": expected}
            (case / "expected.yaml").write_text(
                yaml.safe_dump(data, sort_keys=False, default_flow_style=None), encoding="utf-8"
            )
            per_cwe.setdefault(c.cwe, [0, 0])[0 if c.vulnerable else 1] += 1
    total = sum(v + s for v, s in per_cwe.values())
    print(f"{total} cases written to {OUT}")
    for cwe, (v, s) in sorted(per_cwe.items()):
        print(f"  CWE-{cwe}: {v} vulnerable, {s} safe")
    return 0


if __name__ == "__main__":
    sys.exit(main())
