"""The secret masker's rules are built once, from detect-secrets' plugins, under two locks.
A review runs bandit, semgrep and detect-secrets in threads that all mask: the detect-secrets
analyzer masks while it holds DETECT_SECRETS_LOCK. With the masker taking its own lock first,
a review of a real sdist hung for good after "run completed" (measured: every thread waiting
on a futex). One lock order everywhere makes that impossible."""

from __future__ import annotations

import threading
import time

import pytest

from tokyo_cli.safety import masking


@pytest.fixture
def unbuilt_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(masking, "_rules", None)


def test_masking_while_another_thread_builds_the_rules_never_deadlocks(unbuilt_rules: None) -> None:
    done: dict[str, str] = {}

    def analyzer() -> None:  # what the detect-secrets analyzer does: mask under its lock
        with masking.DETECT_SECRETS_LOCK:
            started.set()
            # Give the other thread every chance to take the masker's own lock first (it may
            # not: then it waits for DETECT_SECRETS_LOCK, which is the fixed order).
            deadline = time.monotonic() + 1.0
            while not masking._rules_lock.locked() and time.monotonic() < deadline:
                time.sleep(0.01)
            done["analyzer"] = masking.mask_secrets("password = 'hunter2hunter2'")[0]

    def other() -> None:  # bandit's or semgrep's thread masking a finding
        started.wait()
        done["other"] = masking.mask_secrets("token = 'ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'")[0]

    started = threading.Event()
    threads = [threading.Thread(target=analyzer, daemon=True), threading.Thread(target=other, daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "the masker deadlocked"
    assert "hunter2hunter2" not in done["analyzer"] and "a1B2c3D4e5F6" not in done["other"]
