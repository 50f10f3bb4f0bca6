"""``torchshape expr`` evaluates only what its allow-list names: hostile expressions (attribute
escapes, dunders, imports, lambdas, comprehensions, calls outside the list, huge literals, deep
nesting) exit 2 naming the refused part, and run nothing: the check happens before torch is
imported, and nothing is evaluated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_python
from torchshape.cli import main
from torchshape.errors import UsageError
from torchshape.families.expr.spec import make_spec

# (expression, a word the refusal names)
HOSTILE = [
    ("().__class__.__bases__[0].__subclasses__()", "__class__"),
    ("a.__class__", "__class__"),
    ("a._version", "_version"),
    ("__import__('os').system('echo owned')", "__import__"),
    ("__builtins__", "__builtins__"),
    ("import os", "an import"),
    ("from os import system", "an import"),
    ("lambda: 0", "a lambda"),
    ("[x for x in a]", "a comprehension"),
    ("{x: 1 for x in a}", "a comprehension"),
    ("max(x for x in a)", "a generator expression"),
    ("f'{a}'", "an f-string"),
    ("(b := a)", ":="),
    ("open('/etc/passwd').read()", "open"),
    ("eval('1')", "eval"),
    ("exec('import os')", "exec"),
    ("getattr(a, 'view')", "getattr"),
    ("print(a)", "print"),
    ("os.system('ls')", "os"),
    ("torch.load('model.pt')", "torch.load"),
    ("torch.save(a, '/tmp/x')", "torch.save"),
    ("torch.hub.load('x', 'y')", "torch.hub"),
    ("torch.ops.aten.add(a, a)", "torch.ops"),
    ("torch.nn.Module()", "torch.nn.Module"),
    ("torch.utils.cpp_extension", "torch.utils"),
    ("torch.__dict__", "__dict__"),
    ("a.numpy()", ".numpy"),
    ("a.data_ptr()", ".data_ptr"),
    ("a.register_hook(print)", ".register_hook"),
    ("a.apply_(abs)", ".apply_"),
    ("a.storage()", ".storage"),
    ("a.cuda()", ".cuda"),
    ("a.view(**{'size': 3})", "**keywords"),
    ("a[0] = 1", "assignment"),
    ("a.shape = 3", "assignment"),
    ("a += 1", "in-place"),
    ("del a", "del"),
    ("for x in a: pass", "a loop"),
    ("while True: pass", "a loop"),
    ("def f(): pass", "a function"),
    ("class C: pass", "a class"),
    ("with a: pass", "with"),
    ("assert a", "assert"),
    ("raise ValueError", "raise"),
    ("a if a else a", "a conditional"),
    ("a and a", "and/or"),
    ("{1, 2}", "a set"),
    ("{'a': 1}", "a dict"),
    ("9**9**9", "huge number"),
    ("2**a.numel()", "a power"),
    ("10**100", "huge number"),
    ("1 << 100000", "huge number"),
    ("[0] * 10**9", "items"),
    ("'x' * 100000", "items"),
    ("1" + "0" * 100, "beyond int64"),
    ("'" + "x" * 300 + "'", "string literal"),
    ("-" * 60 + "a", "nesting"),
    ("a" + ".T" * 60, "nesting"),
    ("[" * 60 + "a" + "]" * 60, "nesting"),
    ("a + " * 1500 + "a", "characters long"),
    ("torch.cat([a]).F", ".F"),
    ("F.__dict__", "__dict__"),
    ("len.__self__", "__self__"),
    ("torch = 1; torch", "assigning to torch"),
    ("\x00", "NUL"),
]


@pytest.mark.parametrize(("expression", "named"), HOSTILE)
def test_hostile_expressions_are_refused_naming_the_part(expression: str, named: str) -> None:
    with pytest.raises(UsageError) as refused:
        make_spec(expression, ["a=3,4"])
    assert refused.value.exit_code == 2
    assert named in refused.value.message, refused.value.message


def test_the_command_line_exits_2_with_one_line_and_runs_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchshape.families.expr import family

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("evaluated a refused expression")

    monkeypatch.setattr(family.FAMILY, "inspect", never)
    for expression, _ in HOSTILE:
        assert main(["expr", "--tensor", "a=3,4", "--", expression]) == 2, expression
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("torchshape: error: EXPRESSION: ") and err.count("\n") == 1, err


def test_a_refusal_comes_before_torch_is_imported() -> None:
    code = (
        "import sys\n"
        "from torchshape.cli import main\n"
        "code = main(['expr', '().__class__.__bases__[0].__subclasses__()', '--tensor', 'a=3'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "raise SystemExit(code)\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 2, result.stderr
    assert "refused: the private or dunder name __class__" in result.stderr


# Hostile fragments injected anywhere into ordinary expressions.
FRAGMENTS = [
    "a.__class__",
    "__import__('os')",
    "lambda: a",
    "[x for x in a]",
    "torch.load('f')",
    "os",
    "a._base",
    "open('x')",
    "9**9**99",
    "[0]*10**8",
    "(y := a)",
    "a.numpy()",
    "torch.ops.aten",
    "f'{a}'",
    "{a}",
    "a if a else a",
]
TEMPLATES = [
    "a + {}",
    "torch.cat([a, {}])",
    "a[{}]",
    "a.view({})",
    "({}).sum()",
    "b = {}; a",
    "a[:, {}:]",
    "F.linear(a, {})",
    "torch.einsum('ij->j', {})",
    "a.to(dtype={})",
    "[a, ({})][0]",
]


@given(template=st.sampled_from(TEMPLATES), fragment=st.sampled_from(FRAGMENTS), depth=st.integers(1, 3))
def test_fuzz_hostile_fragments_anywhere_are_refused(template: str, fragment: str, depth: int) -> None:
    expression = fragment
    for _ in range(depth):
        expression = template.format(expression)
    with pytest.raises(UsageError) as refused:
        make_spec(expression, ["a=3,4"])
    assert refused.value.exit_code == 2


@given(st.text(alphabet="ab_.()[]{}:;,=+-*/@%<>!'\"0123456789 \\\nlambdimportx", max_size=60))
def test_fuzz_any_text_is_refused_or_only_allowed_nodes(text: str) -> None:
    """Whatever the text, the checker answers UsageError or an expression with no dunder and no call
    outside the lists; it never crashes."""
    import ast

    try:
        tree = make_spec(text, ["a=3,4"]).checked.tree
    except UsageError as refused:
        assert refused.exit_code == 2
        tree = ast.Module(body=[], type_ignores=[])
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.Lambda, ast.Import, ast.ImportFrom, ast.comprehension))
        if isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_")
        if isinstance(node, ast.Name):
            assert not node.id.startswith("_")
