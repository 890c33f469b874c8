"""Each checker on real corpus scripts, through the bounded runner (real child processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from assembly_engine.services.assemblies.payload_layout import workflow_bytes
from assembly_engine.services.checks.diagnostics import CheckResult, Diagnostic
from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
from tests.checks import corpus


@pytest.fixture(scope="module")
def runner() -> Iterator[CheckRunner]:
    runner = CheckRunner(CheckLimits(timeout_seconds=20.0))
    yield runner
    runner.close()


def _lines(text: str) -> int:
    return len(text.replace("\r\n", "\n").split("\n"))


def _only(result: CheckResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, result.to_dict()
    return found[0]


def test_shellcheck_reports_sc2086_with_line_and_column(runner: CheckRunner) -> None:
    script = corpus.trmm("Linux_CPU_check.sh").replace("exit 0\n", 'echo "args"\necho $1\nexit 0\n')
    line = script.split("\n").index("echo $1") + 1
    result = runner.run("bash", script)
    sc2086 = _only(result, "SC2086")
    assert (sc2086.line, sc2086.column, sc2086.end_line, sc2086.end_column) == (line, 6, line, 8)
    assert sc2086.source == "shellcheck" and sc2086.severity == "info"
    assert not result.has_errors


def test_python_syntax_error(runner: CheckRunner) -> None:
    original = corpus.trmm("all_network_online_check.py")
    script = original + "\ndef broken(:\n    pass\n"
    result = runner.run("python", script)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert errors and errors[0].source == "ruff" and errors[0].code == "syntax"
    assert errors[0].line == _lines(original) + 1
    assert runner.run("python", original).diagnostics == ()  # the corpus script is clean


def test_powershell_unclosed_brace_has_its_position(runner: CheckRunner) -> None:
    original = corpus.trmm("Win_Activation_Check.ps1").replace("\r\n", "\n").rstrip("\n")
    script = original + "\nfunction Get-Broken {\n    Write-Output 'never closed'\n"
    result = runner.run("powershell", script)
    error = _only(result, "PS-MISSING")
    # Reported at the opener: the '{' at the end of the new line.
    assert (error.line, error.column) == (_lines(original) + 1, len("function Get-Broken {"))
    assert error.severity == "error" and "never closed" in error.message
    assert result.checkers[0].name == "tree-sitter-powershell"


def test_powershell_here_string_and_grammar_gaps(runner: CheckRunner) -> None:
    unended = runner.run("powershell", '$text = @"\nnever ends\n')
    assert [(d.line, d.column, d.code, d.severity) for d in unended.diagnostics] == [
        (1, 9, "PS-HERE-STRING", "error")
    ]
    # Valid PowerShell the grammar cannot parse is a warning, never an error.
    gap = runner.run("powershell", "Get-ChildItem | Sort-Object Name, Length -Unique\n")
    assert gap.diagnostics and not gap.has_errors


def test_an_empty_or_comment_only_powershell_script_has_no_problems(runner: CheckRunner) -> None:
    # A new script starts out empty; PowerShell runs one of nothing but comments.
    for script in ["", "\n", "   \n", "# TODO: write this\n", "<#\n.SYNOPSIS\n  Later.\n#>\n# more\n"]:
        assert runner.run("powershell", script).diagnostics == (), script
    # A comment does not hide what follows it.
    assert runner.run("powershell", '# note\n"never closed').diagnostics
    assert _only(runner.run("powershell", "# note\nfunction F {\n"), "PS-MISSING").line == 2


def test_batch_goto_to_a_missing_label(runner: CheckRunner) -> None:
    original = corpus.trmm("Win_ADDC_Sync_Start.bat").replace("\r\n", "\n")
    script = original.replace("exit /b 0", "goto :finish\nexit /b 0")
    line = script.split("\n").index("goto :finish") + 1
    error = _only(runner.run("batch", script), "BAT-LABEL")
    assert (error.line, error.column, error.severity) == (line, 7, "error")
    fixed = script.replace("exit /b 0", ":finish\nexit /b 0")
    assert not runner.run("batch", fixed).has_errors


def test_yaml_indentation_error(runner: CheckRunner) -> None:
    lines = corpus.playbook().split("\n")
    index = next(i for i, line in enumerate(lines) if "win_copy" in line)
    lines[index + 1] = lines[index + 1].replace("        content", "         content")  # one space too many
    result = runner.run("ansible", "\n".join(lines))
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert errors and errors[0].source == "yamllint" and errors[0].line == index + 3
    assert "syntax" in errors[0].code


def test_playbook_structure(runner: CheckRunner) -> None:
    result = runner.run("ansible", "- name: no hosts\n  tasks:\n    - name: only a name\n")
    messages = [
        (d.line, d.severity, d.message) for d in result.diagnostics if d.source == "playbook-structure"
    ]
    assert (1, "error", "This play has no 'hosts': Ansible refuses to run it.") in messages
    assert any(severity == "warning" and line == 3 for line, severity, _ in messages)


def test_workflow_edge_to_a_missing_node(runner: CheckRunner) -> None:
    flow = corpus.workflow()
    flow["edges"][1]["target"] = "node-that-is-gone"
    text = workflow_bytes(flow).decode()
    error = _only(runner.run("workflow", text), "edge-node")
    assert error.severity == "error" and "node-that-is-gone" in error.message
    assert text.split("\n")[error.line - 1].strip() == '"target": "node-that-is-gone",'


def test_clean_corpus_has_no_errors(runner: CheckRunner) -> None:
    scripts = corpus.clean_corpus()
    futures = [(name, runner.submit(language, text)) for name, language, text in scripts]
    results = {name: future.result(timeout=120) for name, future in futures if future is not None}
    assert len(results) == len(scripts) >= 130
    with_errors = {n: r.to_dict()["diagnostics"][:2] for n, r in results.items() if r.has_errors}
    assert with_errors == {}
    assert all(run.available and not run.timed_out for r in results.values() for run in r.checkers)
    warnings = sum(r.counts["warning"] + r.counts["info"] for r in results.values())
    print(f"clean corpus: {len(results)} scripts, 0 errors, {warnings} warnings/infos")


def test_an_unchanged_script_is_checked_once(runner: CheckRunner) -> None:
    first = runner.submit("batch", "echo once\n")
    assert first is not None
    result = first.result(timeout=30)
    again = runner.submit("batch", "echo once\n")
    assert again is not None and again.result(timeout=1) is result
    assert runner.kept("batch", "echo once\n") is result


def test_a_missing_checker_is_reported_not_available() -> None:
    runner = CheckRunner()
    runner._shellcheck = None  # as on a machine without ShellCheck
    try:
        result = runner.run("bash", "echo $1\n")
        assert result.diagnostics == ()
        assert [c.to_dict() for c in result.checkers] == [
            {"name": "shellcheck", "available": False, "timed_out": False, "seconds": 0.0, "cpu_seconds": 0.0}
        ]
    finally:
        runner.close()


def test_a_check_over_its_memory_limit_ends_without_an_answer() -> None:
    runner = CheckRunner(CheckLimits(memory_mb=64, timeout_seconds=30.0))
    try:
        nodes = [{"id": f"n{i}", "data": {"label": "x" * 20}} for i in range(300_000)]
        text = json.dumps({"nodes": nodes, "edges": []})
        future = runner.submit("workflow", text)
        assert future is not None
        result = future.result(timeout=60)
        assert result.diagnostics == () and not result.timed_out
        assert result.checkers[0].failed == "it exceeded the check's memory or CPU limit"
        # Not kept: the next check of the same text tries again.
        assert runner.kept("workflow", text) is None
    finally:
        runner.close()


def test_batch_blocks_and_labels() -> None:
    """The rest of the documented Batch rules (services/checks/batch.py), each with its place."""
    from assembly_engine.services.checks import batch

    def found(script: str) -> list[tuple[int, int, str, str]]:
        return [(d.line, d.column, d.code, d.severity) for d in batch.check(script)]

    unclosed = "@echo off\r\nif exist C:\\Temp (\r\n  echo there\r\nexit /b 0\r\n"
    assert found(unclosed) == [(2, 18, "BAT-BLOCK", "error")]  # at the '(' left open
    assert found(unclosed.replace("exit /b 0", ")\r\nexit /b 0")) == []
    assert found("echo one\r\n  ) else (\r\n") == [
        (2, 3, "BAT-BLOCK", "error"),
        (2, 10, "BAT-BLOCK", "error"),
    ]
    assert found('echo "(" ^(\r\necho ( a line that only prints\r\n') == []  # quoted, escaped, echoed
    twice = ":start\r\necho a\r\n  :Start\r\ngoto start\r\n"
    (duplicate,) = batch.check(twice)  # its range is the second ':Start'; goto finds the first
    assert (duplicate.line, duplicate.column, duplicate.end_column) == (3, 3, 9)
    assert (duplicate.code, duplicate.severity) == ("BAT-DUPLICATE-LABEL", "warning")
    assert "also defined on line 1" in duplicate.message
    assert found("setlocal enabledelayedexpansion\r\necho !x!\r\n") == []
    assert found("call :%target%\r\ngoto :eof\r\ncall other.bat\r\n") == []


def test_workflow_node_ids() -> None:
    from assembly_engine.services.checks import workflow

    flow = corpus.workflow()
    first = flow["nodes"][0]
    flow["nodes"].append(dict(first))  # a second node with the first one's id
    flow["nodes"].append({"data": {"label": "no id"}})
    text = workflow_bytes(flow).decode()
    found = workflow.check(text)
    assert [(d.code, d.severity) for d in found] == [("duplicate-node", "error"), ("node-id", "error")]
    assert f"Node {len(flow['nodes'])} has no id" in found[1].message
    assert first["id"] in found[0].message
    assert [d.code for d in workflow.check('{"nodes": {}, "edges": []}')] == ["shape"]
    assert [d.code for d in workflow.check('{"nodes": [')] == ["json"]
