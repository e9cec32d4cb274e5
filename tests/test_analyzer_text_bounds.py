"""In-process analyzers walk a module's tree only when its text allows a result: complexity
when some function could pass the threshold (complexity.may_exceed: fewer decision keywords
in the whole text than the threshold means none can), readme-mentions when a name it reads
occurs (docs.may_introduce). Neither bound hides anything the full walk reports."""

from __future__ import annotations

import ast
from pathlib import Path

from tokyo_cli.analyzers.complexity import THRESHOLD, complexities, may_exceed
from tokyo_cli.analyzers.docs import _introduced, may_introduce

REPO = Path(__file__).resolve().parents[1]


def branches(n: int) -> str:
    """A function with ``n`` decision points, each written a different way radon counts."""
    forms = [
        "    if a:\n        pass\n",
        "    x = 1 if a else 2\n",
        "    for i in a:\n        pass\n",
        "    while a:\n        break\n",
        "    y = a and b or c\n",
        "    z = [i for i in a if i]\n",
        "    try:\n        pass\n    except E:\n        pass\n",
        "    assert a\n",
        "    match a:\n        case 1:\n            pass\n",
    ]
    body, count = "", 0
    for form in forms * n:
        step = {"    y = a and b or c\n": 2, "    z = [i for i in a if i]\n": 2}.get(form, 1)
        if count + step > n:
            continue
        body, count = body + form, count + step
    assert count == n
    return "def f(a, b, c):\n" + body


def test_a_function_just_over_the_threshold_is_still_measured() -> None:
    over = branches(THRESHOLD)  # complexity THRESHOLD + 1
    assert may_exceed(over, THRESHOLD)
    assert complexities(over, threshold=THRESHOLD)["f"].complexity == THRESHOLD + 1
    at = "def f(a):\n" + "    if a:\n        pass\n" * (THRESHOLD - 1)  # complexity THRESHOLD: never reported
    assert complexities(at)["f"].complexity == THRESHOLD
    assert not may_exceed(at, THRESHOLD) and complexities(at, threshold=THRESHOLD) == {}
    assert may_exceed("def f(a):\n    return 1if a else 2\n" * 10, THRESHOLD)  # a digit before `if`
    assert may_exceed("ｉｆ = 1\n", THRESHOLD)  # non-ASCII: no shortcut


def test_the_bound_hides_nothing_radon_reports_on_this_repository() -> None:
    checked = 0
    for path in sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        over = {name for name, block in complexities(text).items() if block.complexity > THRESHOLD}
        assert set(complexities(text, threshold=THRESHOLD)) >= over, path
        checked += bool(over)
    assert checked > 5  # the comparison had functions over the threshold to keep


def test_every_form_readme_mentions_reads_passes_its_text_bound() -> None:
    forms = [
        'import typer\ndef main(level: int = typer.Option(1, "--level")):\n    pass\n',
        "def main(level: Annotated[int, Option()] = 1):\n    pass\n",
        'parser.add_argument("--fast")\n',
        'click.option("--fast")\n',
        'import os\nX = os.getenv("APP_MODE")\n',
        'from os import environ\nX = environ["APP_MODE"]\n',
        'X = os.environ.get("APP_MODE")\n',
        "class S(pydantic_settings.BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_prefix="APP_")\n    mode: str = ""\n',
    ]
    for source in forms:
        assert list(_introduced(ast.parse(source))), source
        assert may_introduce(source), source
    assert not may_introduce("def add(a, b):\n    return a + b\n")
    assert may_introduce("X = os.ｅｎｖｉｒｏｎ['APP_MODE']\n")  # NFKC-normalized name: no shortcut


def test_the_readme_mentions_bound_hides_nothing_on_this_repository() -> None:
    found = 0
    for path in sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if list(_introduced(ast.parse(text))):
            assert may_introduce(text), path
            found += 1
    assert found > 5
