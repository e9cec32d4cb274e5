"""The live TUI driven like a user would (``App.run_test``), over a real review: the real
engine, gateway and history database, the agents' calls answered by the fake provider.

Akira's reply comes at once; the others' are held by the fake provider until the test
releases them (``hold.set()``), so the screen is seen mid-run with one panel finished and the
rest waiting — however slow the machine — then at the end with the merged, stored run. No
test races a timer: each waits for the state it needs (``wait_for``) or holds the run.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from test_tui_fakes import wait_for
from tokyo_cli.config.settings import load_settings
from tokyo_cli.engine.review import ReviewRequest, prepare_review
from tokyo_cli.findings import Severity
from tokyo_cli.store.db import open_db
from tokyo_cli.store.history import list_runs, load_run
from tokyo_cli.tui.app import LEDGER_MISSING, TokyoApp
from tokyo_cli.tui.launch import live_services
from tokyo_cli.tui.screens.live import LiveScreen
from tokyo_cli.tui.screens.modals import ConfirmScreen, DismissScreen
from tokyo_cli.tui.services import Services
from tokyo_cli.tui.widgets.agent_panel import AgentPanel
from tokyo_cli.tui.widgets.findings_view import FindingsView

# The live TUI streams its calls; litellm's streaming path reads pydantic fields off instances.
pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_.*' attribute on the instance is deprecated")

SERVER_OLD = "import subprocess\n\n\ndef ping(host):\n    return subprocess.run(['ping', host], check=False)\n"
SERVER_NEW = SERVER_OLD + "\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
SHELL_LINE = 9
TEST_OLD = "def test_ping():\n    assert True\n"
TEST_NEW = TEST_OLD + "\n\ndef test_run():\n    pass\n"
CI_OLD = (
    "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
)
CI_NEW = CI_OLD + "      - run: pip install -r requirements.txt\n"


def finding(path: str, line: int, severity: str, title: str, category: str) -> dict[str, object]:
    return {
        "path": path,
        "line": line,
        "severity": severity,
        "category": category,
        "title": title,
        "body": f"Body of {title}.",
        "suggestion": "Do better.",
    }


@pytest.fixture
def project(git_repo: GitRepo) -> GitRepo:
    git_repo.write("src/app/server.py", SERVER_OLD)
    git_repo.write("tests/test_server.py", TEST_OLD)
    git_repo.write(".github/workflows/ci.yml", CI_OLD)
    git_repo.commit("base")
    git_repo.write("src/app/server.py", SERVER_NEW)
    git_repo.write("tests/test_server.py", TEST_NEW)
    git_repo.write(".github/workflows/ci.yml", CI_NEW)
    return git_repo


def script(fp: FakeProvider, hold: threading.Event | None) -> None:
    """Akira answers at once with a critical finding; Yuki and Hiro with a medium and a low
    one, and everyone else (Sakura, Kenji, the synthesis) with none, once ``hold`` is set
    (``None``: at once)."""
    fp.script("Other agents reviewed the change", {"summary": "Fix the injection.", "findings": []})
    fp.script(
        "You are Akira",
        {
            "findings": [
                finding("src/app/server.py", SHELL_LINE, "critical", "Shell injection through shell=True", "security")
            ],
            "summary": "One injection.",
        },
    )
    fp.script(
        "You are Yuki",
        {
            "findings": [finding("tests/test_server.py", 5, "medium", "test_run asserts nothing", "testing")],
            "summary": "Weak test.",
        },
        hold=hold,
    )
    fp.script(
        "You are Hiro",
        {
            "findings": [finding(".github/workflows/ci.yml", 8, "low", "Dependencies installed without a lock", "ci")],
            "summary": "Unpinned.",
        },
        hold=hold,
    )
    fp.script("", {"findings": [], "summary": "Nothing."}, hold=hold)


MakeApp = Callable[..., TokyoApp]


@pytest.fixture
def make_app(project: GitRepo, fake_provider: FakeProvider) -> MakeApp:
    """``make_app(hold=None, **service_overrides)``: a TokyoApp over a real run of ``project``
    whose slow agents answer once ``hold`` is set (see :func:`script`)."""

    def make(hold: threading.Event | None = None, **overrides: Any) -> TokyoApp:
        script(fake_provider, hold)
        settings = load_settings(api_base=fake_provider.url)
        prepared = prepare_review(ReviewRequest(repo=project.root, working=True), settings)
        services = live_services(prepared, settings)
        for key, value in overrides.items():
            setattr(services, key, value)
        return TokyoApp(services)

    return make


def live(app: TokyoApp) -> LiveScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, LiveScreen))
    return screen


def panel_text(panel: AgentPanel) -> str:
    console = Console(width=panel.size.width or 40, record=True, color_system=None, file=io.StringIO())
    console.print(panel.render())
    return console.export_text()


def view(app: TokyoApp) -> FindingsView:
    return app.screen.query_one(FindingsView)


def db_path() -> Path:
    return load_settings().db_path() or Path()


async def finished(pilot: Pilot[Any], app: TokyoApp) -> None:
    await wait_for(pilot, lambda: live(app).outcome is not None, "the run to be stored")
    await pilot.pause()


async def test_panels_update_as_calls_finish_and_findings_fill_the_table(make_app: MakeApp) -> None:
    hold = threading.Event()
    app = make_app(hold)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        steps = screen.view.steps
        # Every planned step has its panel before the first event: names and models known.
        assert [p.step.label for p in screen.panels.values()] == [
            "Akira · security",
            "Yuki · tests",
            "Hiro · ops",
            "Sakura · docs",
            "Kenji · design",
            "Kenji · summary",
        ]
        await wait_for(
            pilot,
            lambda: steps["security"].status == "ok" and steps["tests"].in_flight == 1,
            "Akira's step to finish and Yuki's call to be sent",
        )
        await pilot.pause()
        # Mid-run: Akira done, the others held waiting on their model.
        assert steps["tests"].status == "running"
        assert steps["summary"].status == "pending"
        akira = steps["security"]
        assert (akira.calls_done, akira.calls_total, akira.findings) == (1, 1, 1)
        assert akira.tokens_in > 0 and akira.tokens_out > 0
        text = panel_text(screen.panels["security"])
        assert "calls 1/1" in text and "1 finding" in text and "claude-opus-4-5" in text
        assert "waiting for the model" in panel_text(screen.panels["tests"])
        shown = view(app).shown
        assert [(f.agent, f.severity) for f in shown] == [("akira", Severity.CRITICAL)]
        assert view(app).table.row_count == 1

        hold.set()
        await finished(pilot, app)
        outcome = screen.outcome
        assert outcome is not None and outcome.result.status == "completed"
        assert all(s.status == "ok" for s in steps.values())
        agents = {a for f in view(app).findings for a in f.agents}
        assert {"akira", "yuki", "hiro"} <= agents  # the merged list replaced the raw one
        assert view(app).findings == outcome.result.findings
        run_id = outcome.result.run_id
        assert run_id is not None
        db = open_db(db_path())
        assert [r.id for r in list_runs(db)] == [run_id]
        await pilot.press("q")
    assert app.return_value is outcome


async def test_filter_by_severity_agent_and_text_then_open_and_copy(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await finished(pilot, app)
        v = view(app)
        everything = list(v.shown)
        assert len(everything) >= 3

        await pilot.press("v")  # >= low
        assert v.min_severity is Severity.LOW  # the key took effect (this run has no info finding)
        assert {f.severity for f in v.shown} <= {Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW}
        await pilot.press("v", "v")  # >= high
        assert v.shown and all(f.severity.at_least(Severity.HIGH) for f in v.shown)
        assert not any(f.agent in ("yuki", "hiro") for f in v.shown)
        assert v.table.row_count == len(v.shown)
        await pilot.press("v", "v")  # back to all
        assert v.shown == everything

        await pilot.press("a")  # the first agent with findings, then the next
        first = v.agent
        assert first is not None and v.shown and all(first in f.agents for f in v.shown)
        await pilot.press("a")
        assert v.agent != first and all(v.agent in f.agents for f in v.shown)
        while v.agent is not None:
            await pilot.press("a")

        await pilot.press("slash", *"asserts")
        assert [f.title for f in v.shown] == ["test_run asserts nothing"]
        await pilot.press("enter")  # keeps the filter, back to the table
        assert v.table.has_focus and v.text == "asserts"
        await pilot.press("enter")  # opens the finding full screen
        assert type(app.screen).__name__ == "FindingScreen"
        await pilot.press("y")
        assert app.clipboard == v.shown[0].fingerprint
        await pilot.press("escape", "slash", "escape")  # esc in the filter clears it
        assert v.text == "" and v.shown == everything

        await pilot.press("s")
        assert v.sort == "agent" and [f.agent for f in v.shown] == sorted(f.agent for f in v.shown)


async def test_cancel_stores_a_cancelled_run_with_the_finished_steps(make_app: MakeApp) -> None:
    app = make_app(threading.Event())  # never released: the others answer only after the cancel
    async with app.run_test(size=(80, 24)) as pilot:
        screen = live(app)
        steps = screen.view.steps
        await wait_for(
            pilot,
            lambda: steps["security"].status == "ok" and steps["tests"].in_flight == 1,
            "Akira's step to finish and Yuki's call to be sent",
        )
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # changed my mind: nothing happens
        assert screen.busy and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("c", "y")
        await finished(pilot, app)
        outcome = screen.outcome
        assert outcome is not None and outcome.result.status == "cancelled"
        assert outcome.result.run_id is not None and outcome.store_error is None

        stored = load_run(open_db(db_path()), outcome.result.run_id)
        assert stored.status == "cancelled"
        steps = {s.step_id: s for s in stored.steps}
        assert steps["security"].status == "ok"
        assert any(f.title == "Shell injection through shell=True" for f in steps["security"].findings)
        assert any(f.title == "Shell injection through shell=True" for f in stored.findings)
        # Yuki's analyzers had finished (its call was in flight): the step keeps what they found.
        tests = steps["tests"]
        assert (tests.status, tests.error) == ("partial", "cancelled before it finished")
        assert tests.not_reviewed == {path: "cancelled" for path in tests.files} and tests.files
        assert {a.name for a in tests.analyzers} == {"test-gaps"}
        assert screen.view.status == "cancelled"
        panels = {k: p.step for k, p in screen.panels.items()}
        assert (panels["tests"].status, panels["tests"].error) == ("partial", "cancelled before it finished")
        assert panels["summary"].status == "cancelled" and panels["tests"].in_flight == 0
        assert "cancelled" in panel_text(screen.panels["summary"])  # one row per agent at 80x24
        assert not app.screen.check_action("cancel_run", ())  # nothing left to cancel
        await pilot.press("q")
    assert app.return_value is outcome


async def test_quitting_mid_run_cancels_stores_and_exits(make_app: MakeApp) -> None:
    app = make_app(threading.Event())  # never released
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await wait_for(pilot, lambda: screen.view.steps["security"].status == "ok", "Akira's step to finish")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_value is not None, "the app to exit")
    outcome = app.return_value
    assert outcome.result.status == "cancelled" and outcome.result.run_id is not None
    assert [r.status for r in list_runs(open_db(db_path()))] == ["cancelled"]


class Ledger:
    """Records ``dismiss`` calls (the ledger's signature)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def __call__(self, db: Any, fingerprint: str, *, reason: str, who: str | None = None) -> None:
        self.calls.append((fingerprint, reason, who))


async def test_dismiss_during_the_run_reaches_the_ledger_once_the_run_is_saved(make_app: MakeApp) -> None:
    ledger = Ledger()
    hold = threading.Event()
    app = make_app(hold, dismiss=ledger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        await wait_for(pilot, lambda: len(view(app).findings) == 1, "Akira's finding")
        shell = view(app).findings[0]
        await pilot.press("d")
        assert isinstance(app.screen, DismissScreen)
        await pilot.press("enter")  # a reason is required
        assert isinstance(app.screen, DismissScreen)
        await pilot.press(*"fixture", "enter")
        assert app.decision(shell) == ("dismissed", "fixture")
        assert ledger.calls == [] and screen.busy  # not stored yet: the ledger would not know it
        hold.set()
        await finished(pilot, app)
        await wait_for(pilot, lambda: bool(ledger.calls), "the dismissal")
        assert ledger.calls == [(shell.fingerprint, "fixture", None)]
        await pilot.press("d")  # already dismissed: no second dialog
        assert not isinstance(app.screen, DismissScreen)


async def test_dismiss_mid_run_with_the_real_ledger_and_the_next_run_leaves_it_out(make_app: MakeApp) -> None:
    from tokyo_cli.store.ledger import ledger_status

    def status(fingerprint: str) -> str:
        db = open_db(db_path())
        try:
            return ledger_status(db, [fingerprint])[fingerprint]
        finally:
            db.close()

    hold = threading.Event()
    app = make_app(hold)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(view(app).findings) == 1, "Akira's finding")
        shell = view(app).findings[0]
        await pilot.press("d", *"intended", "enter")
        assert live(app).busy and app.pending_dismissals  # made mid-run: waits for the save
        hold.set()
        await finished(pilot, app)
        await wait_for(pilot, lambda: status(shell.fingerprint) == "dismissed", "the ledger to record it")
        await pilot.press("q")

    second = make_app()
    async with second.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: second.decision(shell)[0] == "dismissed", "the raised finding marked dismissed")
        await finished(pilot, second)
        result = live(second).outcome.result  # type: ignore[union-attr]
        assert result.suppressed >= 1
        assert shell.fingerprint not in {f.fingerprint for f in view(second).findings}


async def test_dismiss_without_the_ledger_module_says_so(make_app: MakeApp) -> None:
    app = make_app(dismiss=None)
    notes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify = lambda message, **_: notes.append(message)  # type: ignore[method-assign]
        await finished(pilot, app)
        await pilot.press("d")
        assert not isinstance(app.screen, DismissScreen)
        assert notes[-1] == LEDGER_MISSING


async def test_a_run_that_raises_is_shown_and_handed_back() -> None:
    async def broken(listener: Any) -> Any:
        raise RuntimeError("provider config exploded")

    app = TokyoApp(Services(start_review=broken, tick_s=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.error is not None, "the error")
        assert live(app).view.status == "failed" and not live(app).busy
        await pilot.press("q")
    assert isinstance(app.error, RuntimeError)


async def test_a_streaming_call_shows_its_latest_text_in_the_panel(
    make_app: MakeApp, fake_provider: FakeProvider
) -> None:
    app = make_app()
    fake_provider.reset()
    # Raw model text (not JSON: the repair call then gets the default reply) with an escape
    # sequence and markup, which must reach the screen literally and without the ESC.
    fake_provider.script(
        "You are Yuki", "\x1b[31m red [bold]literal[/bold] and some more words, then the tail", times=1
    )
    fake_provider.script("", {"findings": [], "summary": "Nothing."})
    fake_provider.stream_hold = hold = threading.Event()  # two of the four deltas, then held
    async with app.run_test(size=(120, 40)) as pilot:
        screen = live(app)
        tests = screen.view.steps["tests"]
        await wait_for(pilot, lambda: "red [bold]" in tests.streamed, "Yuki's call to stream half its reply")
        await pilot.pause()
        assert tests.status == "running" and tests.in_flight == 1
        text = panel_text(screen.panels["tests"])
        assert "[31m red [bold]" in text and "\x1b" not in text  # literal markup, no escape character
        assert "waiting for the model" not in text and "tail" not in text  # mid-call: partial text
        hold.set()
        await finished(pilot, app)
        assert tests.streamed == "" and "\x1b" not in panel_text(screen.panels["tests"])
        await pilot.press("q")


def test_finding_detail_shows_cwe_ids() -> None:
    from io import StringIO

    from rich.console import Console

    from tokyo_cli.findings import Finding, Severity
    from tokyo_cli.tui.widgets.finding_detail import detail_renderable

    f = Finding(
        path="a.py",
        line=3,
        severity=Severity.HIGH,
        category="security",
        title="SQL injection",
        agent="akira",
        rule="bandit:B608",
        cwe=[89],
    )
    out = StringIO()
    Console(file=out, width=120, color_system=None).print(detail_renderable(f, None))
    assert "rule bandit:B608  ·  CWE-89" in out.getvalue()
    plain = StringIO()
    Console(file=plain, width=120, color_system=None).print(detail_renderable(f.model_copy(update={"cwe": []}), None))
    assert "CWE" not in plain.getvalue()
