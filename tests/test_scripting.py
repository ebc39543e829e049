"""The restricted script environment: known sandbox escapes are refused."""
import pytest

from engine.scripting import (
    RestrictedEnvironment,
    RestrictedScriptEngine,
    ScriptRejected,
    check_expression,
    check_script,
)

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == 'Popen']",
    "open('/etc/passwd').read()",
    "__import__('os').system('id')",
    "getattr(x, '__globals__')",
    "eval('1+1')",
    "exec('import os')",
    "(lambda: 1).__code__",
    "type(x)",
    "globals()",
    "x.__dict__",
    "'{0.__class__}'.format(x)",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_rejected_at_compile_or_run(source):
    reason = check_expression(source)
    if reason is None:
        with pytest.raises(Exception):
            RestrictedEnvironment().evaluate(source, {"x": 1})
    else:
        assert reason


def test_imports_and_class_definitions_rejected():
    assert "import" in check_script("import os")
    assert "import" in check_script("from os import path")
    assert check_script("class A: pass")


def test_useful_scripts_still_work():
    env = RestrictedEnvironment()
    data = {"readings": [0.1, 0.4, 0.3], "lel": 5.0}
    env.execute("peak = max(readings)\npassed = peak <= (0.5 if lel >= 4 else 0.2)\n"
                "deadline = now() + hours(8)\nitems = [r * 2 for r in readings]", data)
    assert data["peak"] == 0.4 and data["passed"] is True and len(data["items"]) == 3
    assert "deadline" in data and "now" not in data and "__builtins__" not in data
    assert env.evaluate("len(readings) == 3 and round(lel) == 5", data) is True
    with pytest.raises(ValueError):
        env.execute("x = 1", {"now": 5})


def test_rejection_type():
    with pytest.raises(ScriptRejected):
        RestrictedEnvironment().evaluate("x.__class__", {"x": 1})


def test_not_python_is_a_syntax_error_so_dmn_can_rewrite_feel_entries():
    # SpiffWorkflow's DMN engine catches SyntaxError for entries like "< 4" and retries them as "? < 4".
    with pytest.raises(SyntaxError):
        RestrictedEnvironment().evaluate("< 4", {"x": 3})
    assert RestrictedEnvironment().evaluate("list(zip(a, b))", {"a": [1], "b": [2]}) == [(1, 2)]
    # ... and the engine's validate() (what the DMN engine calls) keeps it a SyntaxError too.
    with pytest.raises(SyntaxError):
        RestrictedScriptEngine().validate("< 4")
    with pytest.raises(ScriptRejected) as err:
        RestrictedScriptEngine().validate("__import__('os')")
    assert not isinstance(err.value, SyntaxError)
