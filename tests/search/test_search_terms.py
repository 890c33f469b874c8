"""The search terms of code (storage/contract/search_terms.py), on real scripts of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.storage.contract.search_terms import (
    MATCH_LINE_CHARS,
    MAX_QUERY_TERMS,
    best_line,
    body_terms,
    query_terms,
)
from tests.support import CORPUS

SCRIPTS = CORPUS / "tactical-rmm" / "scripts"


def terms_of(path: Path) -> set[str]:
    return set(body_terms(path.read_text(encoding="utf-8", errors="replace")).split())


def finds(body: str, query: str) -> bool:
    """What the index does: every query term is a body term, the last one as a prefix."""
    words = set(body_terms(body).split())
    terms = query_terms(query).words
    return bool(terms) and all(t in words for t in terms[:-1]) and any(w.startswith(terms[-1]) for w in words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invoke-WebRequest -Uri $url", "invoke webrequest web request uri url"),
        ("HKLM:\\Software\\Foo", "hklm software foo"),
        ("$env:TEMP", "env temp"),
        ("HTTPServer getItem2 my_var", "httpserver http server getitem2 get item 2 my var"),
        ("Win32_Process Process PROCESS", "win32 win 32 process"),
        ("naïve Ünïcode 日本語 " + "x" * 65, "naïve ünïcode 日本語"),
    ],
)
def test_code_is_split_into_words_and_parts(text: str, expected: str) -> None:
    assert set(body_terms(text).split()) == set(expected.split())


def test_a_body_gives_each_term_once_whatever_its_case_or_script() -> None:
    # The index keeps no counts: repeats would only cost tokenising and index time.
    for text in ["Get-Item get-item GET-ITEM Get-Item\n" * 500, "naïve Naïve NAÏVE naïve-Item"]:
        terms = body_terms(text).split()
        assert len(terms) == len(set(terms))
    assert sorted(body_terms("Get-Item get-item GET-ITEM\n" * 500).split()) == ["get", "item"]


def test_a_query_finds_identifiers_paths_and_registry_keys_the_way_people_type_them() -> None:
    body = 'Invoke-WebRequest -Uri $u -OutFile "$env:TEMP\\x.msi"\nSet-ItemProperty HKLM:\\Software\\Foo\\Run'
    for query in [
        "Invoke-WebRequest",
        "webrequest",
        "request",
        "invoke-webreq",
        "env:temp",
        "$env:TEMP",
        "HKLM:\\Software\\Foo",
        "hklm\\software",
        "software foo run",
        "SET-ITEMPROP",
    ]:
        assert finds(body, query), query
    for query in ["Invoke-RestMethod", "HKCU:\\Software", "tmp"]:
        assert not finds(body, query), query


def test_powershell_from_the_corpus() -> None:
    scripts = sorted(SCRIPTS.glob("*.ps1"))
    assert len(scripts) > 20
    for path in scripts:
        text = path.read_text(encoding="utf-8-sig")
        if "Write-Output" in text:
            assert {"write", "output"} <= terms_of(path), path.name
            assert finds(text, "Write-Output") and finds(text, "write-out"), path.name
        if "$env:COMPUTERNAME" in text:
            assert finds(text, "$env:COMPUTERNAME") and finds(text, "env:comp"), path.name


def test_batch_bash_python_and_yaml_from_the_corpus() -> None:
    batch = sorted(SCRIPTS.glob("*.bat"))
    assert batch
    for path in batch:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert {"echo", "computername"} <= terms_of(path), path.name
        assert finds(text, "%COMPUTERNAME%") and finds(text, "exit /b"), path.name
    bash = sorted(SCRIPTS.glob("*.sh"))
    assert bash and all(finds(p.read_text(), "#!/usr/bin/env bash") for p in bash)
    python = sorted(SCRIPTS.glob("*.py"))
    assert python and all("import" in terms_of(p) for p in python)
    assert any(finds(p.read_text(), "platform.node()") for p in python)
    yaml = sorted((CORPUS / "ansible_playbooks").glob("*.yml"))
    assert yaml and all({"hosts", "tasks"} <= terms_of(p) for p in yaml)
    playbook = yaml[0].read_text(encoding="utf-8")
    assert finds(playbook, "ansible.windows.win_copy") and finds(playbook, "win copy")
    assert finds(playbook, "C:\\Canary.txt") and finds(playbook, "gather_facts")


def test_every_corpus_script_finds_its_own_lines() -> None:
    for path in sorted(SCRIPTS.iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = [line for line in text.splitlines() if query_terms(line).words]
        if not lines:
            continue
        line = lines[len(lines) // 2]
        query = " ".join(query_terms(line).words[:4])
        assert finds(text, query), (path.name, query)
        found = best_line(text, query_terms(query))
        assert found is not None and query_terms(query).words[0] in body_terms(found.text).split()


def test_queries_are_bounded_and_carry_no_syntax() -> None:
    hostile = 'a" OR b NEAR(c d) * ^e -f : {g} ' + " ".join(f"w{i}" for i in range(200))
    terms = query_terms(hostile)
    assert len(terms.words) == MAX_QUERY_TERMS
    assert all(w.isalnum() for w in terms.words)
    assert query_terms('*** " () :').empty
    assert terms.fts5_match().count('"') == 2 * MAX_QUERY_TERMS
    assert query_terms("a").fts5_match() == '"a"*'


def test_the_match_line_is_the_line_with_the_most_terms_cut_to_length() -> None:
    text = "first invoke\n\n  Invoke-WebRequest -Uri " + "x" * 500 + "\nwebrequest"
    found = best_line(text, query_terms("invoke webreq"))
    assert found is not None and found.line == 3
    assert found.text.startswith("Invoke-WebRequest") and len(found.text) == MATCH_LINE_CHARS
    assert best_line(text, query_terms("absent")) is None


def test_the_match_line_of_windows_line_ends_and_of_a_word_on_every_line() -> None:
    found = best_line("@echo off\r\nrem nothing\r\nreg add HKLM\\Run\r\n", query_terms("hklm\\run"))
    assert found is not None and (found.line, found.text) == (3, "reg add HKLM\\Run")
    everywhere = "\n".join(f"step {i} marker" for i in range(100_000))
    found = best_line(everywhere + "\nmarker step final", query_terms("final marker"))
    assert found is not None and found.line == 100_001  # the one line holding both
    found = best_line(everywhere, query_terms("marker"))
    assert found is not None and found.line == 1
    assert best_line("Invoke-NotWebRequest", query_terms("webrequest")) is None  # text, not a word
