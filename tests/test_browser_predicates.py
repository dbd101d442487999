"""Every ``wait_for_function`` in the browser suite is given a JavaScript function.

Playwright polls an *expression* predicate with ``eval`` inside the page, which the app's
Content-Security-Policy (``script-src 'self'``, no ``'unsafe-eval'``) refuses; whether the
call fails depends on timing, so such a test is flaky rather than red (CI of cf54f30).
A *function* predicate is compiled by the DevTools protocol, which the CSP does not govern.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BROWSER_TESTS = sorted((Path(__file__).parent / "browser").glob("*.py"))

#: An arrow function (``() =>``, ``x =>``, ``(a, b) =>``) or a ``function``, maybe async.
JS_FUNCTION = re.compile(r"\s*(async\s+)?(function\b|(\([^()]*\)|[A-Za-z_$][\w$]*)\s*=>)")


def predicates(source: str) -> list[tuple[int, str]]:
    """(line, predicate text) of each ``.wait_for_function`` whose predicate is known statically.

    A name is followed to a module-level string constant; other arguments are left out.
    """
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "wait_for_function"
            and node.args
        ):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((node.lineno, first.value))
        elif isinstance(first, ast.Name) and first.id in constants:
            found.append((node.lineno, constants[first.id]))
    return found


@pytest.mark.parametrize(
    ("text", "is_function"),
    [
        ("() => window.ready", True),
        ("heading => !heading.isConnected", True),
        ("(a, b) => a < b", True),
        ("async () => await navigator.serviceWorker.ready", True),
        ("function () { return true; }", True),
        ("window.ready", False),
        ("performance.getEntriesByType('resource').some((e) => e.name)", False),
        ("document.title === 'x => y'", False),
    ],
)
def test_the_check_tells_functions_from_expressions(text, is_function):
    assert bool(JS_FUNCTION.match(text)) is is_function


def test_predicates_are_found_literal_and_by_name():
    source = (
        'READY = "() => window.ready"\n'
        "def test(page):\n"
        '    page.wait_for_function("window.ready")\n'
        "    page.wait_for_function(READY, timeout=5)\n"
        "    page.wait_for_function(computed())\n"
    )
    assert predicates(source) == [(3, "window.ready"), (4, "() => window.ready")]


@pytest.mark.parametrize("path", BROWSER_TESTS, ids=lambda path: path.name)
def test_browser_tests_wait_with_functions(path):
    expressions = [
        f"{path.name}:{line}: {text!r}"
        for line, text in predicates(path.read_text(encoding="utf-8"))
        if not JS_FUNCTION.match(text)
    ]
    assert not expressions, "expression predicates (the CSP blocks their eval):\n" + "\n".join(
        expressions
    )
