"""The command line: exit codes, one-line errors naming the flag, the JSON contract."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import refused, run_cli, run_python, wrong_rnn_formula
from torchshape.cli import main


def test_design_example_prints_every_tensor(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "rnn", "--kind", "lstm", "--layers", "2", "--bidir")
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "nn.LSTM(50, 30, num_layers=2, bidirectional=True)"
    rows = {
        line.split()[0]: line
        for line in lines
        if line.split() and line.split()[0] in {"input", "h_0", "c_0", "output", "h_n", "c_n"}
    }
    assert set(rows) == {"input", "h_0", "c_0", "output", "h_n", "c_n"}
    # torch's own h_n for this configuration is (4, 3, 30); output (5, 3, 60)
    assert "(4, 3, 30)   (4, 3, 30)   ✓" in rows["h_n"]
    assert "(5, 3, 60)   (5, 3, 60)   ✓" in rows["output"]
    assert "D = 2" in out and "--bidir" in out
    assert max(len(line) for line in lines) <= 80


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--kind", "gru", "--batch-first", "--format", "json")
    assert code == 0
    data = json.loads(out)  # exactly one object, nothing else on stdout
    assert isinstance(data["schema_version"], int)
    assert data["config"]["kind"] == "gru" and data["config"]["batch_first"] is True
    names = [t["name"] for t in data["tensors"]]
    assert names == ["input", "h_0", "output", "h_n"]
    for tensor in data["tensors"]:
        assert isinstance(tensor["formula"], str)
        assert all(isinstance(n, int) for n in tensor["shape"])
        assert tensor["verified"] is True
    by_name = {t["name"]: t for t in data["tensors"]}
    assert by_name["output"]["shape"] == [3, 5, 30]  # (N, L, D·H_out) with batch_first
    assert by_name["h_n"]["shape"] == [1, 3, 30]  # batch_first never applies to h_n


PARSE_ERRORS = [
    (["rnn", "--hidden-size", "--layers", "2"], "--hidden-size: needs a value; got the flag --layers"),
    (["rnn", "--kind", "--help"], "--kind: needs a value; got the flag --help"),
    (["rnn", "--layers"], "--layers: needs a value; none was given"),
    (["rnn", "lstm"], "unexpected word 'lstm'; to choose the module, type --kind lstm"),
    (["rnn", "--bidir", "GRU"], "unexpected word 'GRU'; to choose the module, type --kind gru"),
    (["lstm"], "'lstm' is not a command; type torchshape rnn --kind lstm"),
    (["gru-cell", "--layers", "2"], "'gru-cell' is not a command; type torchshape rnn --kind gru-cell"),
    (["RNN"], "'RNN' is not a command; type torchshape rnn --kind rnn"),
    (
        ["foo"],
        "'foo' is not a command; the commands are rnn, conv, pool, attention, embedding, transformer, "
        "norm, model, expr (torchshape --help lists them)",
    ),
    (
        ["maxpool"],
        "'maxpool' is not a command; the commands are rnn, conv, pool, attention, embedding, transformer, "
        "norm, model, expr (torchshape --help lists them)",
    ),
    (["max"], "'max' is not a command; type torchshape pool --kind max"),
    (["pool", "avg"], "unexpected word 'avg'; to choose the module, type --kind avg"),
    (["conv", "3"], "unexpected word '3'; torchshape conv takes flags only (see torchshape conv --help)"),
    (["rnn", "--hiden-size", "3"], "--hiden-size: no such option; did you mean --hidden-size?"),
    (["rnn", "--hidden_size", "3"], "--hidden_size: no such option; did you mean --hidden-size?"),
    (["rnn", "--lay", "2"], "--lay: no such option; did you mean --layers?"),
    (["rnn", "--no-bidir"], "--no-bidir: no such option; did you mean --bidir?"),
    (["rnn", "--foo", "1"], "--foo: no such option; torchshape rnn --help lists them"),
    (["rnn", "-x"], "-x: no such option; torchshape rnn --help lists them"),
    (["--foo"], "--foo: no such option; torchshape --help lists them"),
    (["rnn", "--bidir", "2"], "--bidir: takes no value, so '2' is left over; drop it"),
    (["rnn", "--bidir=1"], "--bidir: a switch takes no value; type --bidir alone"),
    (
        ["rnn", "extra"],
        "unexpected word 'extra'; torchshape rnn takes flags only (see torchshape rnn --help)",
    ),
    (
        ["rnn", "--", "--layers", "2"],
        "unexpected word '--layers' after --; torchshape rnn takes flags only, drop the --",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), PARSE_ERRORS, ids=lambda a: " ".join(a) if isinstance(a, list) else ""
)
def test_parse_errors_name_the_flag_or_what_to_type(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    refused(capsys, args, message)


def test_negative_numbers_are_values_not_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "rnn", "--dropout", "-0.1")
    assert code == 2
    assert err == "torchshape: error: --dropout: -0.1 is outside [0, 1); use a probability such as 0.2\n"


def test_help_wins_over_a_stray_word(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "rnn", "lstm", "--help")
    assert (code, err) == (0, "")
    assert "Usage: torchshape rnn" in out


# --- aliases: PyTorch's own argument names ------------------------------------------------


def test_pytorch_names_are_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    code, out, err = run_cli(
        capsys, "rnn", "--num-layers", "2", "--bidirectional", "--batch-size", "4", "--format", "json"
    )
    assert code == 0, err
    aliased = json.loads(out)
    code, out, _ = run_cli(capsys, "rnn", "--layers", "2", "--bidir", "--batch", "4", "--format", "json")
    assert aliased == json.loads(out)
    assert aliased["config"]["num_layers"] == 2 and aliased["config"]["bidirectional"] is True
    _, h_n = torch.nn.GRU(50, 30, num_layers=2, bidirectional=True)(torch.zeros(5, 4, 50))
    shapes = {t["name"]: t["shape"] for t in aliased["tensors"]}
    assert shapes["h_n"] == list(h_n.shape)  # (D·num_layers, N, H_out) = (4, 4, 30)


def test_messages_name_the_primary_flag_for_an_alias(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "rnn", "--num-layers", "0")
    assert code == 2
    assert err == "torchshape: error: --layers: 0 is out of range; use a whole number from 1 to 1024\n"


# --- --help --------------------------------------------------------------------------------


def _help(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run_cli(capsys, *args, "--help")
    assert (code, err) == (0, "")
    return out


def test_help_shows_no_type_on_switches(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in (("rnn",), ()):
        text = _help(capsys, monkeypatch, *args)
        assert "<bool>" not in text and "BOOL" not in text.upper().replace("BOOLEAN", "")
        assert "<" not in text


def test_help_shows_the_timing_defaults_that_apply(capsys: pytest.CaptureFixture[str]) -> None:
    from torchshape import timing

    code, out, _ = run_cli(capsys, "rnn", "--help")
    assert code == 0
    shown = " ".join(out.replace("│", " ").split())
    assert f"With --time: timed runs. [default: {timing.DEFAULT_REPEATS}]" in shown
    assert f"With --time: untimed runs first. [default: {timing.DEFAULT_WARMUP}]" in shown


def test_help_defaults_have_no_parentheses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _help(capsys, monkeypatch, "rnn")
    assert "[default: (" not in text
    for default in ("[default: 5]", "[default: 3]", "[default: 10]", "[default: lstm]"):
        assert default in text


def test_help_fits_80_columns_without_breaking_a_word(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchshape.families.rnn.spec import Kind
    from torchshape.options import DType, Format

    text = _help(capsys, monkeypatch, "rnn")
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(re.findall(r"[\w-]+", text))
    for choice in [*Kind, *DType, *Format]:
        assert choice.value in words, f"{choice.value} is broken or missing in --help"
    for flag in ("--num-layers", "--bidirectional", "--batch-size", "--layers", "--bidir", "--batch"):
        assert flag in words, f"{flag} is cut off in --help"


def _examples(text: str) -> list[str]:
    after = text[text.index("Examples:") :]
    return [line.strip() for line in after.splitlines() if line.strip().startswith("torchshape ")]


def test_help_examples_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _examples(_help(capsys, monkeypatch, "rnn"))
    assert 3 <= len(examples) <= 5
    monkeypatch.setenv("COLUMNS", "120")
    for example in examples:
        words = shlex.split(example)
        code, out, err = run_cli(capsys, *words[1:])
        assert (code, err) == (0, ""), example
        assert out


# --- --version -----------------------------------------------------------------------------


def test_version_names_torchshape_and_torch(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    import torchshape

    code, out, err = run_cli(capsys, "--version")
    assert (code, err) == (0, "")
    assert out == f"torchshape {torchshape.__version__} (torch {torch.__version__})\n"


def test_version_without_torch_says_so() -> None:
    code = (
        "import importlib.metadata as metadata, sys\n"
        "sys.modules['torch'] = None  # as if torch were not installed\n"
        "found = metadata.version\n"
        "def version(name):\n"
        "    if name == 'torch':\n"
        "        raise metadata.PackageNotFoundError(name)\n"
        "    return found(name)\n"
        "metadata.version = version\n"
        "from torchshape.cli import main\n"
        "raise SystemExit(main(['--version']))\n"
    )
    result = run_python("-c", code)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("torchshape 0.1.0 (torch is not installed")


def test_version_does_not_import_torch() -> None:
    """--version reads torch's version from its installed metadata: as fast as --help."""
    code = (
        "import contextlib, io, sys\n"
        "from torchshape.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--version']) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(out.getvalue(), end='')\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"torchshape \S+ \(torch \S+\)\n", result.stdout)


# --- shell completion ----------------------------------------------------------------------


def completion(shell: str, words: str, cword: int) -> subprocess.CompletedProcess[str]:
    """What the script --install-completion installs asks for, as the shell would ask it."""
    env = {
        **os.environ,
        "_TORCHSHAPE_COMPLETE": f"complete_{shell}",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    code = "import sys; from torchshape.cli import main; sys.exit(main([]))"
    return run_python("-c", code, env=env)


def test_help_offers_shell_completion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "--install-completion" in out and "--show-completion" in out


def test_the_shell_completes_commands_and_their_options() -> None:
    commands = completion("bash", "torchshape co", 1)
    assert (commands.returncode, commands.stdout.split()) == (0, ["conv"])
    options = completion("bash", "torchshape rnn --bi", 2)
    assert options.returncode == 0
    assert set(options.stdout.split()) == {"--bidir", "--bidirectional"}
    model = completion("bash", "torchshape model --dep", 2)
    assert model.stdout.split() == ["--depth"]


def test_show_completion_prints_the_script() -> None:
    env = {**os.environ, "SHELL": "/bin/bash"}
    code = "import sys; from torchshape.cli import main; sys.exit(main(['--show-completion']))"
    # typer finds the shell among the process's parents: run it from one, whatever started pytest
    line = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}; exit $?"
    result = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "_TORCHSHAPE_COMPLETE" in result.stdout


@pytest.mark.parametrize("device", ["cuda", "cuda:7", "mps"])
def test_missing_device_exits_1(capsys: pytest.CaptureFixture[str], device: str) -> None:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.device_count() > 7:
        pytest.skip("this machine has that device")
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, out, err = run_cli(capsys, "rnn", "--device", device)
    assert code == 1 and out == ""
    assert err.startswith(f"torchshape: error: --device {device}: ")
    assert err.count("\n") == 1


def test_mismatch_exits_1_and_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the classic batch_first mistake: h_n laid out as (N, D·num_layers, H_out)
    wrong_rnn_formula(monkeypatch, "h_n", lambda dims: (dims[1], dims[0], dims[2]))
    code, out, _ = run_cli(capsys, "rnn", "--batch-first")
    assert code == 1
    assert "✗ MISMATCH h_n" in out


def test_python_dash_m(tmp_path: object) -> None:
    result = run_python("-m", "torchshape", "rnn", "--kind", "rnn", "--format", "json", timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config"]["kind"] == "rnn"


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from torchshape.errors import UsageError

    with pytest.raises(UsageError):
        main(["rnn", "--hidden-size", "0", "--debug"])


def test_lengths_without_seq_len_set_l_to_the_longest(capsys: pytest.CaptureFixture[str]) -> None:
    """``--lengths 7,3``: the lengths say how long the batch is, L = 7 (not the default 5)."""
    import torch

    code, out, err = run_cli(capsys, "rnn", "--kind", "gru", "--lengths", "7,3", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["symbols"]["L"] == 7 and data["symbols"]["N"] == 2
    shapes = {t["name"]: t["shape"] for t in data["tensors"]}
    assert all(t["verified"] for t in data["tensors"])
    gru = torch.nn.GRU(50, 30)
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.zeros(7, 2, 50), [7, 3])
    output, h_n = gru(packed)
    padded, _ = torch.nn.utils.rnn.pad_packed_sequence(output)
    assert shapes["input"] == [7, 2, 50]
    assert shapes["output"] == list(padded.shape) and shapes["h_n"] == list(h_n.shape)


def test_lengths_with_seq_len_keep_l(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "rnn", "--lengths", "3,1", "--seq-len", "6", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["symbols"]["L"] == 6


def test_lengths_may_have_spaces_after_commas(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "rnn", "--lengths", " 4, 1 ,3 ", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["config"]["lengths"] == [4, 1, 3]


def test_python_lengths_without_seq_len_set_l() -> None:
    from torchshape import make_spec

    assert make_spec(lengths=[2, 9, 4]).seq_len == 9
    assert make_spec(lengths=[2, 4], seq_len=5).seq_len == 5
