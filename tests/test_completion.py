"""Shell completion: a script per shell, a real completion through bash, installation into HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RunCli

# What identifies each shell's script: its completion hook and the variable it sets.
MARKERS = {
    "bash": ("complete -o default -F _tokyo_completion tokyo", "_TOKYO_COMPLETE=complete_bash"),
    "zsh": ("#compdef tokyo", "_TOKYO_COMPLETE=complete_zsh"),
    "fish": ("complete --command tokyo", "_TOKYO_COMPLETE=complete_fish"),
    "powershell": ("Register-ArgumentCompleter", "complete_powershell"),
    "pwsh": ("Register-ArgumentCompleter", "complete_powershell"),  # the same script
}


@pytest.mark.parametrize("shell", sorted(MARKERS))
def test_show_completion_prints_the_shells_script(cli: RunCli, shell: str) -> None:
    code, out, err = cli("--show-completion", shell)
    assert (code, err) == (0, "")
    for marker in MARKERS[shell]:
        assert marker in out, (shell, out[:300])


def test_an_unknown_shell_is_a_usage_error(cli: RunCli) -> None:
    code, out, err = cli("--show-completion", "tcsh")
    assert code == 2 and out == ""
    assert "no completion for shell 'tcsh' (known: bash, zsh, fish, powershell, pwsh)" in err
    assert "Traceback" not in err


def test_help_lists_both_options(cli: RunCli) -> None:
    code, out, _ = cli("--help")
    assert code == 0 and "--show-completion" in out and "--install-completion" in out


def _tokyo_script() -> Path:
    script = Path(sys.executable).parent / "tokyo"
    if not script.exists():
        pytest.fail(f"{script} is missing: install the package (pip install -e '.[test]')")
    return script


def test_bash_completes_a_command_and_an_option(cli: RunCli, tmp_path: Path) -> None:
    """The bash script, sourced in a real bash, asks the installed ``tokyo`` for completions."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    _, script, _ = cli("--show-completion", "bash")
    (tmp_path / "tokyo.sh").write_text(script, encoding="utf-8")
    probe = (
        'source "$1"; COMP_WORDS=(tokyo rev); COMP_CWORD=1; _tokyo_completion tokyo; echo "${COMPREPLY[*]}"; '
        'COMP_WORDS=(tokyo review --fail); COMP_CWORD=2; _tokyo_completion tokyo; echo "${COMPREPLY[*]}"'
    )
    env = {**os.environ, "PATH": f"{_tokyo_script().parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", probe, "bash", str(tmp_path / "tokyo.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["review", "--fail-on"], proc.stdout + proc.stderr


def test_install_completion_writes_into_home_only(cli: RunCli) -> None:
    home = Path(os.environ["HOME"])  # the conftest's temporary home
    code, out, err = cli("--install-completion", "bash")
    assert code == 0, err
    installed = home / ".bash_completions" / "tokyo.sh"
    assert f"installed in {installed}" in out
    assert "_TOKYO_COMPLETE=complete_bash" in installed.read_text(encoding="utf-8")
    assert f"source '{installed}'" in (home / ".bashrc").read_text(encoding="utf-8")
