"""Seeded-bug corpus for benchmarks/bench_analyzers.py: a small realistic project (BASE) and
changes to it (SCENARIOS), each either clean or carrying known defects.

A defect is marked in a file's new content with ``⟦agent⟧`` at the end of the line the
finding must sit on (the marker and the space before it are removed before writing). A
file-level defect is listed in ``Scenario.file_level``. Files mapped to ``None`` are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

README = """\
# shop

A tiny shop backend: carts, prices, storage.

## Usage

    shop --verbose list

## Configuration

`SHOP_HOME` selects the data directory. See the [guide](docs/guide.md).
"""
GUIDE = "# Guide\n\nStart with [usage](../README.md#usage).\n\n## Carts\n\nA cart holds items.\n"
CART = '''\
"""Shopping carts."""

from __future__ import annotations


class Cart:
    """Items and quantities for one customer."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    def add(self, sku: str, qty: int = 1) -> None:
        """Add ``qty`` of ``sku``; raises ValueError for a non-positive quantity."""
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self.items[sku] = self.items.get(sku, 0) + qty

    def remove(self, sku: str) -> None:
        """Remove ``sku`` entirely (no error when absent)."""
        self.items.pop(sku, None)
'''
PRICING = '''\
"""Prices and discounts."""


def discount(total: float, code: str | None) -> float:
    """``total`` after the discount ``code`` (10% for SAVE10, else unchanged)."""
    if code == "SAVE10":
        return round(total * 0.9, 2)
    return total
'''
STORAGE = '''\
"""Saving carts as JSON files."""

import json
from pathlib import Path


def save(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` as JSON."""
    path.write_text(json.dumps(data))


def load(path: Path) -> dict:
    """Read the JSON object saved at ``path``."""
    return json.loads(path.read_text())
'''
CONFIG = '''\
"""Runtime configuration from the environment."""

import os
from pathlib import Path


def home() -> Path:
    """The data directory: $SHOP_HOME, default ~/.shop."""
    return Path(os.environ.get("SHOP_HOME", "~/.shop")).expanduser()
'''
CLI = '''\
"""Command line entry point."""

import argparse


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="shop")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("command", choices=["list"])
    args = parser.parse_args(argv)
    return 0 if args.command == "list" else 2
'''
TEST_CART = '''\
import pytest

from shop.cart import Cart


def test_add_accumulates():
    cart = Cart()
    cart.add("a")
    cart.add("a", 2)
    assert cart.items == {"a": 3}


def test_add_rejects_zero():
    with pytest.raises(ValueError):
        Cart().add("a", 0)


def test_remove():
    cart = Cart()
    cart.add("a")
    cart.remove("a")
    assert cart.items == {}
'''
TEST_PRICING = '''\
from shop.pricing import discount


def test_save10():
    assert discount(100.0, "SAVE10") == 90.0


def test_unknown_code():
    assert discount(100.0, "NOPE") == 100.0
'''
TEST_STORAGE = '''\
from shop.storage import load, save


def test_round_trip(tmp_path):
    save(tmp_path / "c.json", {"a": 1})
    assert load(tmp_path / "c.json") == {"a": 1}
'''
DOCKERFILE = """\
FROM python:3.12-slim@sha256:2be5d2f4c3a8e9b1f6c7d0a4b3e2f1a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
USER 10001
CMD ["shop", "list"]
"""
WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1
        with:
          persist-credentials: false
      - uses: actions/setup-python@0a5c61591373683505ea898e09a3ea4f39ef2b9c # v5.0.0
        with:
          python-version: "3.12"
      - run: pip install -e '.[test]' && pytest -q
"""
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: shop
          image: registry.example.com/shop:1.4.2
          ports:
            - containerPort: 8080
"""
PYPROJECT = '[project]\nname = "shop"\nversion = "1.0.0"\nrequires-python = ">=3.11"\n'

BASE: dict[str, str] = {
    "README.md": README, "docs/guide.md": GUIDE, "pyproject.toml": PYPROJECT,
    "src/shop/__init__.py": '"""shop."""\n', "src/shop/cart.py": CART, "src/shop/pricing.py": PRICING,
    "src/shop/storage.py": STORAGE, "src/shop/config.py": CONFIG, "src/shop/cli.py": CLI,
    "tests/test_cart.py": TEST_CART, "tests/test_pricing.py": TEST_PRICING,
    "tests/test_storage.py": TEST_STORAGE, "Dockerfile": DOCKERFILE,
    ".github/workflows/ci.yml": WORKFLOW, "deploy/app.yaml": DEPLOY,
}


@dataclass
class Scenario:
    """One change: new contents (``None`` deletes), plus file-level expected defects."""

    name: str
    files: dict[str, str | None]
    file_level: list[tuple[str, str]] = field(default_factory=list)  # (agent, path)


def _tested(module: str, func: str, call: str, expect: str) -> str:
    return f"\n\ndef test_{func}():\n    from shop.{module} import {func}\n\n    assert {call} == {expect}\n"


SCENARIOS: list[Scenario] = []


def add(name: str, files: dict[str, str | None], file_level: list[tuple[str, str]] | None = None) -> None:
    SCENARIOS.append(Scenario(name, files, file_level or []))


# ---------------------------------------------------------------- akira: security
add("shell-injection-in-deploy-script", {"scripts/deploy.py": '''\
"""Deploy the current build to a host."""
import subprocess
import sys


def deploy(host: str) -> int:
    """rsync the build to ``host`` and restart the service."""
    cmd = f"rsync -a dist/ {host}:/srv/shop && ssh {host} systemctl restart shop"
    return subprocess.call(cmd, shell=True)  ⟦akira⟧


if __name__ == "__main__":
    sys.exit(deploy(sys.argv[1]))
'''})
add("aws-key-and-password-in-settings", {"src/shop/config.py": CONFIG + '''

S3_BUCKET = "shop-carts"
AWS_ACCESS_KEY_ID = "AKIAQYLPMN5HHHFPZAM2"  ⟦akira⟧
DB_PASSWORD = "Hx9!vQ2#mL7pWz"  ⟦akira⟧
'''})
add("unsafe-yaml-and-pickle", {"src/shop/storage.py": STORAGE.replace("import json\n", "import json\nimport pickle\n\nimport yaml\n") + '''

def load_yaml(path: Path) -> dict:
    """Read a YAML cart export."""
    return yaml.load(path.read_text())  ⟦akira⟧


def load_pickle(blob: bytes) -> dict:
    """Restore a cart from a cached blob."""
    return pickle.loads(blob)  ⟦akira⟧
''', "tests/test_storage.py": TEST_STORAGE + '''

def test_load_yaml(tmp_path):
    from shop.storage import load_yaml

    (tmp_path / "c.yaml").write_text("a: 1\\n")
    assert load_yaml(tmp_path / "c.yaml") == {"a": 1}


def test_load_pickle():
    import pickle

    from shop.storage import load_pickle

    assert load_pickle(pickle.dumps({"a": 1})) == {"a": 1}
'''})
add("tls-verification-disabled-and-sql", {"src/shop/sync.py": '''\
"""Sync carts with the warehouse."""
import sqlite3

import requests


def push(url: str, payload: dict) -> int:
    """POST ``payload`` to the warehouse; the HTTP status."""
    return requests.post(url, json=payload, timeout=10, verify=False).status_code  ⟦akira⟧


def find(db: sqlite3.Connection, sku: str) -> list:
    """Rows for ``sku``."""
    return db.execute("SELECT * FROM items WHERE sku = '%s'" % sku).fetchall()  ⟦akira⟧
''', "tests/test_sync.py": '''\
import sqlite3

from shop.sync import find, push


def test_find_empty():
    db = sqlite3.connect(":memory:")
    db.execute("create table items (sku text)")
    assert find(db, "a") == []


def test_push_is_callable():
    assert callable(push)
'''})
add("private-key-committed", {"deploy/tls/server.key": '''\
-----BEGIN RSA PRIVATE KEY-----  ⟦akira⟧
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
-----END RSA PRIVATE KEY-----
'''})
add("github-token-in-release-script", {"scripts/release.sh": '''\
#!/bin/sh
set -eu
export GH_TOKEN=ghp_Q8vLx2RkT9mNw4PzH7sYc1BfJ6dKa3GuE5iO  ⟦akira⟧
gh release create "v$1" dist/*
'''})

# ---------------------------------------------------------------- yuki: tests
add("new-function-without-test", {"src/shop/pricing.py": PRICING + '''

def shipping(total: float) -> float:  ⟦yuki⟧
    """Shipping cost: free from 50, else 4.90."""
    return 0.0 if total >= 50 else 4.9
'''})
add("new-class-without-test", {"src/shop/coupons.py": '''\
"""Coupon codes."""


class CouponBook:  ⟦yuki⟧
    """Known coupon codes and their percentages."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def register(self, code: str, percent: int) -> None:
        """Add ``code`` worth ``percent`` off; raises ValueError outside 1..100."""
        if not 1 <= percent <= 100:
            raise ValueError("percent out of range")
        self.codes[code.upper()] = percent
'''})
add("test-module-deleted", {"tests/test_pricing.py": None, "tests/test_cart.py": TEST_CART + '''

def test_remove_absent_is_quiet():
    cart = Cart()
    cart.remove("missing")
    assert cart.items == {}
'''}, [("yuki", "tests/test_pricing.py")])
add("test-function-removed-and-skip", {"tests/test_cart.py": TEST_CART.replace('''def test_add_rejects_zero():
    with pytest.raises(ValueError):
        Cart().add("a", 0)


def test_remove():''', '''@pytest.mark.skip  ⟦yuki⟧
def test_remove():''')})
add("assertion-removed", {"tests/test_pricing.py": TEST_PRICING.replace(
    '    assert discount(100.0, "NOPE") == 100.0\n', '    discount(100.0, "NOPE")  ⟦yuki⟧\n')})
add("xfail-added", {"tests/test_storage.py": TEST_STORAGE.replace(
    "def test_round_trip", "@pytest.mark.xfail  ⟦yuki⟧\ndef test_round_trip").replace(
    "from shop.storage", "import pytest\n\nfrom shop.storage")})
add("test-removed-from-module", {"tests/test_cart.py": TEST_CART.replace('''def test_add_accumulates():
    cart = Cart()
    cart.add("a")
    cart.add("a", 2)
    assert cart.items == {"a": 3}


def test_add_rejects_zero():''', '''def test_add_rejects_zero():  ⟦yuki⟧''')})

# ---------------------------------------------------------------- hiro: CI, containers, config
add("workflow-template-injection", {".github/workflows/ci.yml": WORKFLOW + '''      - name: Announce
        run: echo "Testing ${{ github.event.pull_request.title }}"  ⟦hiro⟧
'''})
add("workflow-unpinned-action", {".github/workflows/ci.yml": WORKFLOW.replace(
    "      - uses: actions/setup-python@0a5c61591373683505ea898e09a3ea4f39ef2b9c # v5.0.0\n",
    "      - uses: actions/setup-python@v5  ⟦hiro⟧\n")})
add("workflow-prt-and-write-all", {".github/workflows/label.yml": '''\
name: label
on: pull_request_target  ⟦hiro⟧
permissions: write-all  ⟦hiro⟧
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - run: gh pr edit "$PR" --add-label triage
        env:
          PR: ${{ github.event.pull_request.number }}
          GH_TOKEN: ${{ github.token }}
'''})
add("dockerfile-latest-curl-sh", {"Dockerfile": DOCKERFILE.replace(
    DOCKERFILE.splitlines()[0], "FROM python:latest  ⟦hiro⟧").replace(
    "RUN pip install --no-cache-dir .\n",
    "RUN curl -fsSL https://install.python-poetry.org | python3 -  ⟦hiro⟧\nRUN pip install --no-cache-dir .\n")})
add("new-worker-dockerfile-runs-as-root", {"worker/Dockerfile": '''\
FROM python:3.12-slim@sha256:2be5d2f4c3a8e9b1f6c7d0a4b3e2f1a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4  ⟦hiro⟧
WORKDIR /worker
COPY worker/ .
ENV API_TOKEN=tok_8f3kLq29xVb7  ⟦hiro⟧
CMD ["python", "run.py"]
'''})
add("deployment-yaml-broken", {"deploy/app.yaml": DEPLOY.replace(
    "          image: registry.example.com/shop:1.4.2\n",
    "          image: registry.example.com/shop:1.5.0\n        resources: {limits: {memory: 256Mi}  ⟦hiro⟧\n")})

# ---------------------------------------------------------------- sakura: docs
add("new-public-api-without-docstrings", {"src/shop/cart.py": CART + '''
    def count(self) -> int:  ⟦sakura⟧
        return sum(self.items.values())


class WishList:  ⟦sakura⟧
    def __init__(self) -> None:
        self.skus: list[str] = []
''', "tests/test_cart.py": TEST_CART + '''

def test_count_and_wishlist():
    from shop.cart import WishList

    cart = Cart()
    cart.add("a", 2)
    assert cart.count() == 2
    assert WishList().skus == []
'''})
add("docs-broken-link-and-anchor", {"docs/guide.md": GUIDE + '''
See [configuration](../README.md#settings) for the data directory.  ⟦sakura⟧
Deployment is described in [deploy](deploy.md).  ⟦sakura⟧
'''})
add("new-option-and-env-undocumented", {"src/shop/cli.py": CLI.replace(
    '    parser.add_argument("command", choices=["list"])\n',
    '    parser.add_argument("--currency", default="EUR")  ⟦sakura⟧\n    parser.add_argument("command", choices=["list"])\n'),
    "src/shop/config.py": CONFIG + '''

def cache_dir() -> Path:
    """Where caches live: $SHOP_CACHE_DIR, default under home()."""
    return Path(os.environ.get("SHOP_CACHE_DIR", str(home() / "cache")))  ⟦sakura⟧
''', "tests/test_config.py": '''\
from shop.cli import main
from shop.config import cache_dir


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path


def test_currency_flag():
    assert main(["--currency", "USD", "list"]) == 0
'''})

# ---------------------------------------------------------------- kenji: architecture
add("import-cycle-module-level", {"src/shop/pricing.py": "from shop.cart import Cart\n\n" + PRICING + '''

def cart_total(cart: Cart, prices: dict[str, float]) -> float:
    """Sum of ``prices`` over the cart's items."""
    return sum(prices[sku] * qty for sku, qty in cart.items.items())
''', "src/shop/cart.py": CART.replace("from __future__ import annotations\n", "from __future__ import annotations\n\nfrom shop import pricing  ⟦kenji⟧\n") + '''
    def total(self, prices: dict[str, float], code: str | None = None) -> float:
        """Price of the cart after the discount ``code``."""
        return pricing.discount(pricing.cart_total(self, prices), code)
''', "tests/test_pricing.py": TEST_PRICING + '''

def test_cart_total():
    from shop.cart import Cart
    from shop.pricing import cart_total

    cart = Cart()
    cart.add("a", 2)
    assert cart_total(cart, {"a": 1.5}) == 3.0
    assert cart.total({"a": 1.5}, "SAVE10") == 2.7
'''})
add("import-cycle-inside-function", {"src/shop/config.py": CONFIG + '''

def default_cart_path() -> Path:
    """Where the current cart is saved."""
    from shop import storage  ⟦kenji⟧

    return home() / storage.__name__.rsplit(".", 1)[-1]
''', "src/shop/storage.py": STORAGE.replace("from pathlib import Path\n", "from pathlib import Path\n\nfrom shop.config import home\n") + '''

def save_default(data: dict) -> None:
    """Save ``data`` under the data directory."""
    save(home() / "cart.json", data)
''', "tests/test_storage.py": TEST_STORAGE + '''

def test_save_default(monkeypatch, tmp_path):
    from shop.config import default_cart_path
    from shop.storage import save_default

    monkeypatch.setenv("SHOP_HOME", str(tmp_path))
    save_default({"a": 1})
    assert (tmp_path / "cart.json").exists() and default_cart_path().parent == tmp_path
'''})
_RULES = "".join(f'    if country == "{c}":\n        return {r}\n' for c, r in
                 [("DE", 0.19), ("FR", 0.2), ("IT", 0.22), ("ES", 0.21), ("NL", 0.21), ("BE", 0.21),
                  ("AT", 0.2), ("PL", 0.23), ("SE", 0.25), ("DK", 0.25), ("FI", 0.24)])
add("complex-new-function", {"src/shop/tax.py": f'''\
"""VAT rates."""


def vat_rate(country: str) -> float:  ⟦kenji⟧
    """The standard VAT rate of ``country`` (ISO code); 0.0 when unknown."""
{_RULES}    return 0.0
''', "tests/test_tax.py": '''\
from shop.tax import vat_rate


def test_known_and_unknown():
    assert vat_rate("DE") == 0.19
    assert vat_rate("XX") == 0.0
'''})
add("discount-grows-complex", {"src/shop/pricing.py": PRICING.replace(
    'def discount(total: float, code: str | None) -> float:',
    'def discount(total: float, code: str | None) -> float:  ⟦kenji⟧').replace(
    '    if code == "SAVE10":\n        return round(total * 0.9, 2)\n',
    "".join(f'    if code == "SAVE{n}":\n        return round(total * {1 - n / 100}, 2)\n' for n in range(5, 60, 5))),
    "tests/test_pricing.py": TEST_PRICING.replace("== 90.0", "== 90.0\n    assert discount(100.0, 'SAVE20') == 80.0")})
add("constants-module-grows", {"src/shop/catalog.py": '"""Product catalog."""\n\nCATALOG = {\n' + "".join(
    f'    "sku-{i:04d}": {{"name": "Item {i}", "price": {i % 50 + 0.99}}},\n' for i in range(420)).replace(
    '    "sku-0397"', '    "sku-0397"', 1) + "}\n"})
_catalog = SCENARIOS[-1].files["src/shop/catalog.py"] or ""
_lines = _catalog.split("\n")
_lines[400] += "  ⟦kenji⟧"  # line 401: the first line past the threshold
SCENARIOS[-1].files["src/shop/catalog.py"] = "\n".join(_lines)

# ---------------------------------------------------------------- clean changes
add("clean-feature-with-tests-and-docs", {"src/shop/cart.py": CART + '''
    def quantity(self, sku: str) -> int:
        """How many of ``sku`` the cart holds (0 when absent)."""
        return self.items.get(sku, 0)

    def clear(self) -> None:
        """Remove every item."""
        self.items.clear()
''', "tests/test_cart.py": TEST_CART + '''

def test_quantity_and_clear():
    cart = Cart()
    cart.add("a", 2)
    assert cart.quantity("a") == 2 and cart.quantity("b") == 0
    cart.clear()
    assert cart.items == {}
''', "README.md": README + "\n## Carts\n\nUse `Cart.quantity` to read a line and `Cart.clear` to empty it.\n"})
add("clean-ci-and-container-update", {".github/workflows/ci.yml": WORKFLOW.replace('"3.12"', '"3.13"') + '''      - uses: actions/upload-artifact@65462800fd760344b1a7b4382951275a0abb4808 # v4.3.3
        with:
          name: coverage
          path: coverage.xml
''', "Dockerfile": DOCKERFILE.replace("WORKDIR /app\n", "WORKDIR /app\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"),
    "deploy/app.yaml": DEPLOY.replace("replicas: 2", "replicas: 3") + "          readinessProbe:\n            httpGet: {path: /health, port: 8080}\n"})
add("clean-docs-rewrite", {"docs/guide.md": GUIDE + '''
## Discounts

Codes are applied by `discount`; see [usage](../README.md#usage) and the
[configuration section](../README.md#configuration). Back to [carts](#carts).

| code   | effect   |
|--------|----------|
| SAVE10 | 10% off  |
''', "docs/faq.md": "# FAQ\n\n## Where is my data?\n\nIn `SHOP_HOME`; see the [guide](guide.md#carts).\n"})
add("clean-refactor-with-tests", {"src/shop/storage.py": STORAGE.replace(
    '    path.write_text(json.dumps(data))\n',
    '    tmp = path.with_suffix(".tmp")\n    tmp.write_text(json.dumps(data, sort_keys=True))\n    tmp.replace(path)\n'),
    "tests/test_storage.py": TEST_STORAGE + '''

def test_save_is_atomic(tmp_path):
    save(tmp_path / "c.json", {"b": 2, "a": 1})
    assert not (tmp_path / "c.tmp").exists()
    assert load(tmp_path / "c.json") == {"a": 1, "b": 2}
'''})
add("clean-new-module-documented", {"src/shop/money.py": '''\
"""Money amounts in cents, so sums never drift."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Money:
    """An amount in cents of one currency."""

    cents: int
    currency: str = "EUR"

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError("cannot add different currencies")
        return Money(self.cents + other.cents, self.currency)

    def format(self) -> str:
        """``"12.30 EUR"``."""
        return f"{self.cents // 100}.{self.cents % 100:02d} {self.currency}"


def parse(text: str) -> Money:
    """Parse ``"12.30 EUR"``; raises ValueError for anything else."""
    amount, _, currency = text.partition(" ")
    euros, _, cents = amount.partition(".")
    if not euros.isdigit() or not (cents.isdigit() and len(cents) == 2) or not currency:
        raise ValueError(f"not an amount: {text!r}")
    return Money(int(euros) * 100 + int(cents), currency)
''', "tests/test_money.py": '''\
import pytest

from shop.money import Money, parse


def test_parse_and_format():
    assert parse("12.30 EUR").format() == "12.30 EUR"


def test_add_same_currency():
    assert (Money(100) + Money(50)).cents == 150


@pytest.mark.parametrize("text", ["12 EUR", "x.10 EUR", "1.5 EUR", "1.50"])
def test_parse_rejects(text):
    with pytest.raises(ValueError):
        parse(text)
'''})
add("clean-config-and-packaging", {"pyproject.toml": PYPROJECT + '\n[project.scripts]\nshop = "shop.cli:main"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule:\n      interval: weekly\n"})
add("clean-orders-feature", {"src/shop/orders.py": '''\
"""Orders: a cart frozen at checkout, with its lines, totals and status history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from shop.cart import Cart


class Status(str, Enum):
    """Where an order is in its life."""

    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


# Allowed moves; anything else is a bug in the caller.
TRANSITIONS = {
    Status.PLACED: {Status.PAID, Status.CANCELLED},
    Status.PAID: {Status.SHIPPED, Status.CANCELLED},
    Status.SHIPPED: set(),
    Status.CANCELLED: set(),
}


@dataclass(frozen=True)
class Line:
    """One product line: sku, quantity and unit price in cents."""

    sku: str
    qty: int
    unit_cents: int

    @property
    def cents(self) -> int:
        return self.qty * self.unit_cents


@dataclass
class Order:
    """An order and the times its status changed (UTC)."""

    number: str
    lines: list[Line]
    status: Status = Status.PLACED
    history: list[tuple[Status, datetime]] = field(default_factory=list)

    def total_cents(self) -> int:
        """Sum of the lines, in cents."""
        return sum(line.cents for line in self.lines)

    def move(self, to: Status, at: datetime | None = None) -> None:
        """Change status; raises ValueError for a move TRANSITIONS does not allow."""
        if to not in TRANSITIONS[self.status]:
            raise ValueError(f"cannot go from {self.status.value} to {to.value}")
        self.status = to
        self.history.append((to, at or datetime.now(timezone.utc)))


def checkout(number: str, cart: Cart, prices: dict[str, int]) -> Order:
    """Freeze ``cart`` into an order priced from ``prices`` (cents per sku).

    Raises:
        KeyError: a sku in the cart has no price.
        ValueError: the cart is empty.
    """
    if not cart.items:
        raise ValueError("cannot check out an empty cart")
    lines = [Line(sku, qty, prices[sku]) for sku, qty in sorted(cart.items.items())]
    return Order(number, lines)
''', "tests/test_orders.py": '''\
from datetime import datetime, timezone

import pytest

from shop.cart import Cart
from shop.orders import Status, checkout


def make_order():
    cart = Cart()
    cart.add("b", 2)
    cart.add("a")
    return checkout("o-1", cart, {"a": 250, "b": 100})


def test_checkout_freezes_sorted_lines():
    order = make_order()
    assert [(l.sku, l.qty, l.cents) for l in order.lines] == [("a", 1, 250), ("b", 2, 200)]
    assert order.total_cents() == 450 and order.status is Status.PLACED


def test_checkout_rejects_empty_and_unpriced():
    with pytest.raises(ValueError):
        checkout("o-2", Cart(), {})
    cart = Cart()
    cart.add("z")
    with pytest.raises(KeyError):
        checkout("o-3", cart, {})


def test_move_records_history_and_refuses_bad_moves():
    order = make_order()
    at = datetime(2024, 1, 2, tzinfo=timezone.utc)
    order.move(Status.PAID, at)
    assert order.history == [(Status.PAID, at)]
    with pytest.raises(ValueError):
        order.move(Status.PLACED)
''', "docs/orders.md": "# Orders\n\nCheckout freezes a [cart](guide.md#carts) into an order.\n\n"
    "## Statuses\n\nplaced, paid, shipped, cancelled; see [the code](../src/shop/orders.py).\n"})
add("clean-release-workflow", {".github/workflows/release.yml": '''\
name: release
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1
        with:
          persist-credentials: false
      - uses: actions/setup-python@0a5c61591373683505ea898e09a3ea4f39ef2b9c # v5.0.0
        with:
          python-version: "3.12"
      - run: python -m pip install build==1.2.1 && python -m build
      - uses: actions/upload-artifact@65462800fd760344b1a7b4382951275a0abb4808 # v4.3.3
        with:
          name: dist
          path: dist/
''', "Dockerfile": '''\
FROM python:3.12-slim@sha256:2be5d2f4c3a8e9b1f6c7d0a4b3e2f1a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4 AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim@sha256:2be5d2f4c3a8e9b1f6c7d0a4b3e2f1a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
HEALTHCHECK CMD ["shop", "list"]
CMD ["shop", "list"]
'''})
