"""Semgrep taint analysis (analyzers/semgrep.py): each packaged rule fires on a real
source -> sink flow through a variable and a helper function and stays silent with its
sanitizer; a missing semgrep is reported, not raised; a symlink is never followed.

All cases live in one repository scanned by one semgrep run (a run takes seconds)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.analyzers import semgrep as semgrep_mod
from tokyo_cli.findings import Finding, Severity, merge_duplicates
from tokyo_cli.git.repo import Changeset, load_changeset, resolve_target

pytestmark = pytest.mark.skipif(semgrep_mod.semgrep_command() is None, reason="semgrep not installed")

CASES = {
    "sql-injection": (
        89,
        """\
import sqlite3

from flask import request


def find_query(name):
    return "SELECT * FROM users WHERE name = '" + name + "'"


def view():
    name = request.args.get("name")
    query = find_query(name)
    cur = sqlite3.connect("app.db").cursor()
    cur.execute(query)
""",
        """\
import sqlite3

from flask import request


def find_query():
    return "SELECT * FROM users WHERE name = ?"


def view():
    name = request.args.get("name")
    query = find_query()
    cur = sqlite3.connect("app.db").cursor()
    cur.execute(query, (name,))
""",
    ),
    "command-injection": (
        78,
        """\
import os
import sys


def command_for(target):
    return "ping -c 1 " + target


def main():
    target = sys.argv[1]
    cmd = command_for(target)
    os.system(cmd)
""",
        """\
import os
import shlex
import sys


def command_for(target):
    return "ping -c 1 " + target


def main():
    target = sys.argv[1]
    cmd = command_for(shlex.quote(target))
    os.system(cmd)
""",
    ),
    "path-traversal": (
        22,
        """\
import os

from flask import request

UPLOADS = "/srv/uploads"


def upload_path(name):
    return os.path.join(UPLOADS, name)


def download():
    name = request.args["file"]
    path = upload_path(name)
    with open(path, "rb") as fh:
        return fh.read()
""",
        """\
import os

from flask import request
from werkzeug.utils import secure_filename

UPLOADS = "/srv/uploads"


def upload_path(name):
    return os.path.join(UPLOADS, name)


def download():
    name = request.args["file"]
    path = upload_path(secure_filename(name))
    with open(path, "rb") as fh:
        return fh.read()
""",
    ),
    "code-injection": (
        95,
        """\
from flask import request


def formula(expr):
    return "1 + " + expr


def calc():
    expr = request.form["expr"]
    code = formula(expr)
    return str(eval(code))
""",
        """\
from flask import request


def formula(expr):
    return "1 + %d" % expr


def calc():
    expr = request.form["expr"]
    code = formula(int(expr))
    return str(eval(code))
""",
    ),
    "unsafe-deserialization": (
        502,
        """\
import pickle

from flask import request


def payload(raw):
    return raw.removeprefix(b"v1:")


def restore():
    raw = request.get_data()
    data = payload(raw)
    return pickle.loads(data)
""",
        """\
import json

import yaml
from flask import request


def payload(raw):
    return raw.removeprefix(b"v1:")


def restore():
    raw = request.get_data()
    data = payload(raw)
    return yaml.load(data, Loader=yaml.SafeLoader), json.loads(data)
""",
    ),
    "open-redirect": (
        601,
        """\
from django.shortcuts import redirect


def next_url(params):
    return params.get("next", "/")


def login_done(request):
    target = next_url(request.GET)
    return redirect(target)
""",
        """\
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(params):
    return params.get("next", "/")


def login_done(request):
    target = next_url(request.GET)
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("/")
""",
    ),
    "xss": (
        79,
        """\
from flask import request
from markupsafe import Markup


def greeting(name):
    return "<h1>Hello " + name + "</h1>"


def hello():
    name = request.args.get("name", "")
    html = greeting(name)
    return Markup(html)
""",
        """\
from flask import request
from markupsafe import Markup, escape


def greeting(name):
    return "<h1>Hello " + name + "</h1>"


def hello():
    name = request.args.get("name", "")
    html = greeting(escape(name))
    return Markup(html)
""",
    ),
    "xpath-injection": (
        643,
        """\
from flask import request
from lxml import etree


def user_expr(name):
    return "//user[@name='" + name + "']"


def lookup():
    name = request.args["user"]
    tree = etree.parse("users.xml")
    expr = user_expr(name)
    return tree.xpath(expr)
""",
        """\
from flask import request
from lxml import etree


def user_expr():
    return "//user[@name=$name]"


def lookup():
    name = request.args["user"]
    tree = etree.parse("users.xml")
    expr = user_expr()
    return tree.xpath(expr, name=name)
""",
    ),
    "ldap-injection": (
        90,
        """\
import ldap
from flask import request


def user_filter(uid):
    return "(uid=" + uid + ")"


def search():
    uid = request.args["uid"]
    conn = ldap.initialize("ldap://ldap.example.com")
    query = user_filter(uid)
    return conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, query)
""",
        """\
import ldap
from flask import request
from ldap.filter import escape_filter_chars


def user_filter(uid):
    return "(uid=" + uid + ")"


def search():
    uid = request.args["uid"]
    conn = ldap.initialize("ldap://ldap.example.com")
    query = user_filter(escape_filter_chars(uid))
    return conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, query)
""",
    ),
    "xxe": (
        611,
        """\
from flask import request
from lxml import etree


def body(raw):
    return raw.strip()


def import_feed():
    raw = request.data
    xml = body(raw)
    parser = etree.XMLParser(resolve_entities=True)
    return etree.fromstring(xml, parser)
""",
        """\
from flask import request
from lxml import etree


def body(raw):
    return raw.strip()


def import_feed():
    raw = request.data
    xml = body(raw)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(xml, parser)
""",
    ),
    "ssrf": (
        918,
        """\
import requests
from flask import request


def feed_url(url):
    return url.strip()


def preview():
    url = request.args["url"]
    target = feed_url(url)
    return requests.get(target, timeout=5).text
""",
        """\
import requests
from flask import request

ALLOWED = {"https://feeds.example.com/a", "https://feeds.example.com/b"}


def feed_url(url):
    return url.strip()


def preview():
    url = request.args["url"]
    target = feed_url(url)
    if target in ALLOWED:
        return requests.get(target, timeout=5).text
    return ""
""",
    ),
    "trust-boundary-violation": (
        501,
        """\
from flask import request, session


def role_of(form):
    return form.get("role")


def save():
    form = request.form
    role = role_of(form)
    session["role"] = role
""",
        """\
from flask import request, session


def count_of(form):
    return form.get("count", "0")


def save():
    form = request.form
    count = int(count_of(form))
    session["count"] = count
""",
    ),
    "insecure-cookie": (
        614,
        """\
from flask import make_response


def remember(token):
    resp = make_response("ok")
    resp.set_cookie("token", token)
    return resp
""",
        """\
from flask import make_response


def remember(token):
    resp = make_response("ok")
    resp.set_cookie("token", token, secure=True, httponly=True, samesite="Lax")
    return resp
""",
    ),
}

# More sources, each into the SQL sink: (function name, line of the execute call).
SOURCES = """\
import os
import sqlite3
import sys

from flask import Flask

app = Flask(__name__)
cur = sqlite3.connect("app.db").cursor()


@app.route("/item/<item_id>")
def flask_view_arg(item_id):
    cur.execute("SELECT * FROM items WHERE id = " + item_id)


def django_post(request):
    cur.execute("DELETE FROM t WHERE k = '%s'" % request.POST["k"])


async def starlette_query(request):
    q = request.query_params["q"]
    cur.execute(f"SELECT * FROM t WHERE q = '{q}'")


def from_cli():
    cur.execute("SELECT * FROM t WHERE a = '" + sys.argv[1] + "'")


def from_env():
    cur.execute("SELECT * FROM t WHERE a = '" + os.getenv("NAME", "") + "'")


def from_terminal():
    cur.execute("SELECT * FROM t WHERE a = '" + input("name? ") + "'")


def constant_only():
    cur.execute("SELECT * FROM t WHERE a = 'x'")
"""
SOURCE_LINES = [13, 17, 22, 26, 30, 34]
# A redirect back to this server's own URL or to the page the user came from is no open
# redirect; one to a URL the request names is (line 15).
REDIRECT_BACK = """\
from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/save", methods=["POST"])
def save():
    if request.form.get("again"):
        return redirect(request.url)
    return redirect(request.referrer)


@app.route("/go")
def go():
    return redirect(request.args["next"])
"""
RULES = sorted(CASES)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Changeset, list[AnalyzerRun]]:
    """One repository with every case, reviewed whole by semgrep and bandit at once."""
    base = tmp_path_factory.mktemp("semgrep")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret_vuln.py").write_text(CASES["command-injection"][1], encoding="utf-8")
    repo = GitRepo(base / "repo").init()
    for rule, (_cwe, vulnerable, safe) in CASES.items():
        repo.write(f"cases/{rule.replace('-', '_')}_vuln.py", vulnerable)
        repo.write(f"cases/{rule.replace('-', '_')}_safe.py", safe)
    repo.write("cases/sources.py", SOURCES)
    repo.write("extra/redirect_back.py", REDIRECT_BACK)
    repo.write("cases/gui.pyw", CASES["sql-injection"][1])
    # semgrep's default ignore list skips tests/ and test/; tokyo's path rules decide.
    repo.write("tests/test_views.py", CASES["sql-injection"][1])
    repo.write("test/integration/views.py", CASES["sql-injection"][1])
    repo.write(".semgrepignore", "*.py\n")  # the reviewed repository's: never read
    repo.path("cases/linked.py").symlink_to(outside / "secret_vuln.py")
    repo.commit("cases")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    runs = run_analyzers(["semgrep", "bandit"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    return cs, runs


def findings_in(runs: list[AnalyzerRun], path: str, rule: str | None = None) -> list[Finding]:
    return [f for r in runs for f in r.findings if f.path == path and (rule is None or f.rule == rule)]


def test_redirects_back_to_this_site_or_the_referring_page_are_not_open_redirects(
    scanned: tuple[Changeset, list[AnalyzerRun]],
) -> None:
    _cs, runs = scanned
    found = [(f.line, f.rule) for f in findings_in(runs, "extra/redirect_back.py")]
    assert found == [(15, "semgrep:open-redirect")]


def test_semgrep_ran_without_errors(scanned: tuple[Changeset, list[AnalyzerRun]]) -> None:
    _cs, runs = scanned
    semgrep_run = runs[0]
    assert semgrep_run.name == "semgrep" and semgrep_run.error is None, semgrep_run.error
    assert semgrep_run.not_analyzed == {}
    assert {f.rule for f in semgrep_run.findings} == {f"semgrep:{r}" for r in RULES}


@pytest.mark.parametrize("rule", RULES)
def test_rule_fires_on_the_flow_and_not_after_the_sanitizer(
    scanned: tuple[Changeset, list[AnalyzerRun]], rule: str
) -> None:
    _cs, runs = scanned
    cwe = CASES[rule][0]
    stem = f"cases/{rule.replace('-', '_')}"
    hits = findings_in(runs[:1], f"{stem}_vuln.py")
    assert [f.rule for f in hits] == [f"semgrep:{rule}"]
    f = hits[0]
    assert f.category == "security" and f.source == "analyzer" and f.agent == "akira"
    assert f.cwe == [cwe] and f"CWE-{cwe}" in f.body
    assert "Fix: " in f.body and f"# nosemgrep: {rule}" in f.body and f.title
    assert f.severity in (Severity.HIGH, Severity.MEDIUM, Severity.LOW) and f.confidence in (0.9, 0.6, 0.3)
    assert f.anchor_text.strip()  # anchored on the sink's line
    assert findings_in(runs[:1], f"{stem}_safe.py") == []


def test_sources_flask_view_args_django_starlette_argv_env_input(scanned: tuple[Changeset, list[AnalyzerRun]]) -> None:
    _cs, runs = scanned
    hits = findings_in(runs[:1], "cases/sources.py", "semgrep:sql-injection")
    assert sorted(f.line for f in hits) == SOURCE_LINES


def test_a_pyw_file_is_scanned_as_python(scanned: tuple[Changeset, list[AnalyzerRun]]) -> None:
    _cs, runs = scanned
    assert [f.line for f in findings_in(runs[:1], "cases/gui.pyw", "semgrep:sql-injection")] == [14]


def test_semgrep_ignore_lists_do_not_hide_files(scanned: tuple[Changeset, list[AnalyzerRun]]) -> None:
    _cs, runs = scanned
    for path in ("tests/test_views.py", "test/integration/views.py"):
        assert [f.line for f in findings_in(runs[:1], path, "semgrep:sql-injection")] == [14], path


def test_symlinked_python_file_is_never_followed(scanned: tuple[Changeset, list[AnalyzerRun]]) -> None:
    cs, runs = scanned
    assert any(f.path == "cases/linked.py" and f.skipped == "symlink" for f in cs.files)
    assert findings_in(runs, "cases/linked.py") == []
    assert all("secret_vuln" not in f.path for r in runs for f in r.findings)


def test_taint_supersedes_bandits_shell_pattern_and_merges_what_both_report(
    scanned: tuple[Changeset, list[AnalyzerRun]],
) -> None:
    """On a file semgrep scanned, bandit's B605 (any os.system call) gives way to the taint
    rule; a bandit test that is not a sink pattern (B607, a partial executable path) on the
    same line as a taint finding merges into one finding naming both rules."""
    _cs, runs = scanned
    assert {f.rule for f in findings_in(runs, "cases/command_injection_vuln.py")} == {"semgrep:command-injection"}
    semgrep_f = findings_in(runs, "cases/command_injection_vuln.py")[0]
    b607 = semgrep_f.model_copy(
        update={
            "rule": "bandit:B607",
            "title": "Starting a process with a partial executable path",
            "body": "bandit B607",
            "fingerprint": "other",
            "cwe": [78],
        }
    )
    merged = merge_duplicates([semgrep_f, b607])
    assert len(merged) == 1
    other = ({"semgrep:command-injection", "bandit:B607"} - {merged[0].rule}).pop()
    assert f"Also reported by `{other}`." in merged[0].body and merged[0].cwe == [78]


def test_missing_semgrep_is_reported_and_the_run_continues(
    scanned: tuple[Changeset, list[AnalyzerRun]], monkeypatch: pytest.MonkeyPatch
) -> None:
    cs, _runs = scanned
    files = [f for f in cs.reviewable() if f.path == "cases/command_injection_vuln.py"]
    monkeypatch.setattr(semgrep_mod, "semgrep_command", lambda: None)
    sg, bandit = run_analyzers(["semgrep", "bandit"], cs, files, agent="akira", timeout_s=60)
    assert sg.error is not None and sg.error.startswith("semgrep unavailable: ") and sg.findings == []
    assert sg.not_analyzed == {"cases/command_injection_vuln.py": f"tool unavailable ({sg.error})"}
    assert bandit.error is None and [f.rule for f in bandit.findings] == ["bandit:B605"]


def test_broken_semgrep_is_reported_not_raised(scanned: tuple[Changeset, list[AnalyzerRun]], tmp_path: Path) -> None:
    cs, _runs = scanned
    files = [f for f in cs.reviewable() if f.path == "cases/sql_injection_vuln.py"]
    missing = semgrep_mod.SemgrepAnalyzer(command=[str(tmp_path / "no-such-semgrep")])
    run = missing.run(cs, files, agent="akira", timeout_s=10)
    assert run.error is not None and run.error.startswith("semgrep unavailable: ") and not run.findings
    failing = semgrep_mod.SemgrepAnalyzer(command=["false"])
    run = failing.run(cs, files, agent="akira", timeout_s=10)
    assert run.error == "semgrep unavailable: no report on stdout (exit code 1)"


def test_a_time_limit_shorter_than_semgrep_start_up_is_not_waited_for(
    scanned: tuple[Changeset, list[AnalyzerRun]],
) -> None:
    cs, _runs = scanned
    files = [f for f in cs.reviewable() if f.path == "cases/command_injection_vuln.py"]
    started = time.monotonic()
    sg, bandit = run_analyzers(["semgrep", "bandit"], cs, files, agent="akira", timeout_s=2)
    assert sg.error == (
        "semgrep unavailable: the time limit (2 s) is shorter than semgrep needs to start (at least 5 s)"
    )
    assert sg.not_analyzed == {"cases/command_injection_vuln.py": f"tool unavailable ({sg.error})"}
    assert [f.rule for f in bandit.findings] == ["bandit:B605"] and time.monotonic() - started < 2.5


def test_command_is_offline_and_local(
    monkeypatch: pytest.MonkeyPatch, scanned: tuple[Changeset, list[AnalyzerRun]]
) -> None:
    cs, _runs = scanned
    seen: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(cmd, *, timeout_s, stdin=None, extra_env=None):  # type: ignore[no-untyped-def]
        seen.append((list(cmd), dict(extra_env or {})))
        raise semgrep_mod.ToolUnavailable("stopped")

    monkeypatch.setattr(semgrep_mod, "run_isolated", fake_run)
    files = [f for f in cs.reviewable() if f.path == "cases/sql_injection_vuln.py"]
    run = semgrep_mod.SemgrepAnalyzer(command=["semgrep"]).run(cs, files, agent="akira", timeout_s=30)
    assert run.error == "semgrep unavailable: stopped"
    # The packaged rules over the copied tree come first, with the config tokyo built, written
    # beside the copied tree, never inside it; when that scan fails, the summary scan (over
    # the files defining or calling a helper, see analyzers/taint.py) is not started.
    assert [(Path(cmd[4]).name, Path(cmd[-1]).name) for cmd, _env in seen] == [("tokyo-rules-0.yaml", "tree")]
    for cmd, env in seen:
        # --experimental: semgrep's OCaml command line (see semgrep.CLI_FLAGS).
        assert cmd[:4] == ["semgrep", "scan", "--experimental", "--config"]
        assert Path(cmd[4]).parent == Path(cmd[-1]).parent
        assert cmd.count("--config") == 1 and {"--metrics", "off", "--disable-version-check", "--json"} <= set(cmd)
        assert env == {"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0", "NO_COLOR": "1"}
        root = Path(cmd[-1])
        assert root.is_absolute()  # the copied tree, not the repository


def _no_network_namespace() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return False
    return subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _no_network_namespace(), reason="needs unshare -rn (Linux user namespaces)")
def test_semgrep_runs_without_any_network(scanned: tuple[Changeset, list[AnalyzerRun]]) -> None:
    """In a network namespace with no interface at all (semgrep.dev unreachable), the scan
    finishes quickly and finds the flow: nothing it needs comes from the network."""
    cs, _runs = scanned
    files = [f for f in cs.reviewable() if f.path == "cases/sql_injection_vuln.py"]
    command = ["unshare", "-rn", *(semgrep_mod.semgrep_command() or [])]
    started = time.monotonic()
    run = semgrep_mod.SemgrepAnalyzer(command=command).run(cs, files, agent="akira", timeout_s=60)
    assert run.error is None, run.error
    assert [f.rule for f in run.findings] == ["semgrep:sql-injection"]
    assert time.monotonic() - started < 30


def test_files_no_rule_can_match_are_not_sent() -> None:
    for _cwe, vulnerable, safe in CASES.values():
        assert semgrep_mod.may_match(vulnerable.encode()) and semgrep_mod.may_match(safe.encode())
    assert semgrep_mod.may_match(SOURCES.encode())
    assert not semgrep_mod.may_match(b"import json\n\n\ndef total(xs):\n    return json.dumps(sum(xs))\n")


def test_packaged_rules_one_per_cwe() -> None:
    from tokyo_cli.analyzers import taint

    shared, rules = taint.load_pack()
    assert set(shared["sources"]) == {"web", "local"} and shared["sanitizers"]
    assert sorted(r["id"] for r in rules) == RULES
    for r in rules:
        assert r["metadata"]["cwe"].startswith(f"CWE-{CASES[r['id']][0]}: ")
        assert r["metadata"]["confidence"] in ("HIGH", "MEDIUM", "LOW") and r["metadata"]["hint"]
        assert r.get("mode") == ("taint" if r["id"] != "insecure-cookie" else None)
