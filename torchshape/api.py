"""The Python API: the same inspection as the command line, returning data.

Each layer family's ``inspect_*`` function is one docstring and one ``_inspect`` call; its
signature and the settings in its docstring are made from the family's settings table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from torchshape import families
from torchshape.errors import UsageError
from torchshape.families.attention import spec as attention
from torchshape.families.conv import spec as conv
from torchshape.families.embedding import spec as embedding
from torchshape.families.norm import spec as norm
from torchshape.families.pool import spec as pool
from torchshape.families.rnn import spec as rnn
from torchshape.families.transformer import spec as transformer
from torchshape.python_terms import in_python_terms, python_default, python_help, python_signature
from torchshape.report import Report, Summary
from torchshape.settings import Role, Setting
from torchshape.timing import TimingSettings

if TYPE_CHECKING:
    import torch


class Spec(Protocol):
    """A layer family's spec class: it names its family."""

    family: ClassVar[str]


F = TypeVar("F", bound=Callable[..., Report])


def _made_from(table: tuple[Setting, ...], expected: type[Spec]) -> Callable[[F], F]:
    """An ``inspect_*`` function's signature (``help()``, ``inspect.signature``) and the settings part
    of its docstring, made from the family's settings table."""

    def document(function: F) -> F:
        function.__signature__ = python_signature(table, expected)  # type: ignore[attr-defined]
        described = python_help(table, expected, f"{_article(expected)} ``{expected.__name__}``")
        function.__doc__ = f"{(function.__doc__ or '').rstrip()}\n\n{described}"
        return function

    return document


def _article(expected: type) -> str:
    return "an" if expected.__name__[0] in "AEIOR" else "a"  # an RNNSpec, a ConvSpec


@_made_from(rnn.SETTINGS, rnn.RNNSpec)
def inspect(spec: rnn.RNNSpec | None = None, **settings: Any) -> Report:
    """Build the recurrent module, run it, and return every shape with its formula (``torchshape rnn``).

    Nothing is printed. ``explain`` checks how output relates to h_n, ``unroll`` runs the
    step-by-step loop beside the one call (``report.probe.analysis`` holds both, and the packed
    batch). ``diagram`` draws the unrolled network, every mapping checked (``report.probe.diagram``).

        >>> report = inspect(kind="lstm", num_layers=2, bidirectional=True)
        >>> report.ok, [row.shape for row in report.rows if row.name == "h_n"]
    """
    return _inspect(rnn.SETTINGS, rnn.RNNSpec, spec, settings)


@_made_from(conv.SETTINGS, conv.ConvSpec)
def inspect_conv(spec: conv.ConvSpec | None = None, **settings: Any) -> Report:
    """Build the convolution, run it, and return every shape with its formula (``torchshape conv``).

    A size is an int or one per axis. ``explain`` checks the --explain claims on torch; ``diagram``
    draws one axis' windows, their count checked against torch's output (``report.probe.diagram``).

        >>> report = inspect_conv(kernel_size=3, stride=2, padding=1, size=(32, 24))
        >>> report.ok, [row.shape for row in report.rows]
    """
    return _inspect(conv.SETTINGS, conv.ConvSpec, spec, settings)


@_made_from(pool.SETTINGS, pool.PoolSpec)
def inspect_pool(spec: pool.PoolSpec | None = None, **settings: Any) -> Report:
    """Build the pool, run it, and return every shape with its formula (``torchshape pool``).

    Per-axis settings take an int or one per axis. ``explain`` checks what each window reads
    (``report.probe.analysis.findings``); ``diagram`` draws one axis' windows (``report.probe.diagram``).

        >>> report = inspect_pool(kind="max", size=(8, 7), kernel_size=2, ceil_mode=True)
        >>> report.ok, report.rows[1].shape
    """
    return _inspect(pool.SETTINGS, pool.PoolSpec, spec, settings)


@_made_from(attention.SETTINGS, attention.AttentionSpec)
def inspect_attention(spec: attention.AttentionSpec | None = None, **settings: Any) -> Report:
    """Build nn.MultiheadAttention, run it, and return every shape with its formula
    (``torchshape attention``).

    ``explain`` checks the --explain claims on torch (``report.probe.analysis.claims``); ``diagram``
    draws the weights' L × S' grid of one sequence and head, where torch gave 0 checked against the
    masks (``report.probe.diagram``).

        >>> report = inspect_attention(embed_dim=24, num_heads=4, average_attn_weights=False)
        >>> report.ok, [row.shape for row in report.rows]
    """
    return _inspect(attention.SETTINGS, attention.AttentionSpec, spec, settings)


@_made_from(embedding.SETTINGS, embedding.EmbeddingSpec)
def inspect_embedding(spec: embedding.EmbeddingSpec | None = None, **settings: Any) -> Report:
    """Build nn.Embedding or nn.EmbeddingBag, run it, and return every shape with its formula
    (``torchshape embedding``).

    ``explain`` checks the index range, padding_idx, each bag and max_norm on forward passes
    (``report.probe.analysis.findings``).

        >>> report = inspect_embedding(bag=True, offsets=(0, 2, 2), include_last_offset=True, shape=5)
        >>> report.ok, report.rows[-1].shape
    """
    return _inspect(embedding.SETTINGS, embedding.EmbeddingSpec, spec, settings)


@_made_from(transformer.SETTINGS, transformer.TransformerSpec)
def inspect_transformer(spec: transformer.TransformerSpec | None = None, **settings: Any) -> Report:
    """Build the transformer layer (or nn.Transformer), run it, and return every shape and mask
    with its formula (``torchshape transformer``).

    ``explain`` checks the mask and memory claims on torch.

        >>> report = inspect_transformer(layer="decoder", causal=True, memory_key_padding_mask="bool")
        >>> report.ok, [row.shape for row in report.rows]
    """
    return _inspect(transformer.SETTINGS, transformer.TransformerSpec, spec, settings)


@_made_from(norm.SETTINGS, norm.NormSpec)
def inspect_norm(spec: norm.NormSpec | None = None, **settings: Any) -> Report:
    """Build the normalization layer, run it, and return every shape, parameter and buffer with
    its formula, and the dimensions its statistics are taken over, checked on the output's values
    (``torchshape norm``).

    ``explain`` checks the classic mistakes on torch (``report.probe.analysis.findings``).

        >>> report = inspect_norm(kind="group", num_features=6, num_groups=3)
        >>> report.ok, report.probe.analysis.statistics.holds
    """
    return _inspect(norm.SETTINGS, norm.NormSpec, spec, settings)


def trace(
    model: Any,
    *inputs: Any,
    device: str | torch.device | None = None,
    depth: int | None = None,
    **keywords: Any,
) -> Report:
    """Trace a live ``nn.Module``: every module call of ``model(*inputs, **keywords)``, its shapes, and the
    formula of each layer torchshape knows, checked against torch (``torchshape model``).

    ``device`` moves the model and the inputs first; ``depth`` limits the rows the renderers
    show. ``report.probe.analysis.layers`` holds every call. When forward raises, so does this:
    ``ModelFailed`` names the module that failed, and its ``report`` holds the trace up to
    that call and the diagnosis with its checked fixes (``report.probe.analysis.diagnosis``).

        >>> report = trace(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), torch.randn(3, 4))
        >>> report.ok
    """
    from torchshape.api_checks import check_depth, check_device, check_module

    check_module("model", model)
    check_device("device", device)
    check_depth(depth)
    from torchshape.families.model.probe import trace_live

    report: Report = trace_live(model, inputs, device=device, depth=depth, keywords=keywords)
    return report


def summary(
    model: Any,
    input_size: Any = None,
    input_data: Any = None,
    batch_dim: int | None = None,
    cache_forward_pass: bool | None = None,
    col_names: Iterable[str] | None = None,
    col_width: int = 25,
    depth: int = 3,
    device: Any = None,
    dtypes: Sequence[Any] | None = None,
    mode: str = "same",
    row_settings: Iterable[str] | None = None,
    verbose: int | None = None,
    **kwargs: Any,
) -> Summary:
    """``torchinfo.summary``'s call: trace ``model`` on the inputs torchinfo would make, and return
    the Report with torchinfo's totals (``total_params``, ``trainable_params``, ``total_mult_adds``,
    ``total_input``, ``total_output_bytes``, ``total_param_bytes``).

    ``input_size``: one size or a list of sizes, uniform [0, 1) floats of ``dtypes`` (float32 by
    default; integer dtypes hold indices below the smallest ``num_embeddings``), on ``device`` or the
    model's; ``batch_dim`` inserts a dimension of 1 there. ``input_data``: a tensor, a list of
    forward's arguments or a dict of its keywords (``device`` moves them and the model). ``depth``:
    the deepest layer shown (the model 0, its children 1). ``mode``: "train" or "eval" for the pass,
    the model's own mode back after; "same" leaves it. ``verbose`` 1 prints the table (2 with every
    parameter), 0 prints nothing; None: 0 in a Jupyter notebook, where the result shows itself as
    HTML, else 1 (a REPL shows a Report's one-line repr, so the table is printed there too).
    ``kwargs`` go to forward. ``col_names``, ``col_width``, ``row_settings`` and
    ``cache_forward_pass`` are checked as torchinfo checks them; the table's columns are
    torchshape's (docs/python-api.md, "Coming from torchinfo").

        >>> result = summary(model, input_size=(1, 3, 32, 32), verbose=0)
        >>> result.total_params, result.total_mult_adds
    """
    import sys

    import torch

    from torchshape.api_checks import check_module
    from torchshape.families.model import summary as torchinfo

    del cache_forward_pass  # torchinfo's cache of forward passes: every call here traces anew
    check_module("model", model)
    torchinfo.check(
        input_size=input_size,
        input_data=input_data,
        col_names=col_names,
        col_width=col_width,
        depth=depth,
        mode=mode,
        row_settings=row_settings,
        verbose=verbose,
    )
    if verbose is None:  # quiet in a notebook only, where the result shows itself as HTML
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
        verbose = 0 if type(shell).__name__ == "ZMQInteractiveShell" else 1
    if input_size is not None:
        first = next(model.parameters(), None)
        where = torch.device(device) if device is not None else first.device if first is not None else None
        args: tuple[Any, ...] = tuple(
            torchinfo.made_inputs(model, input_size, batch_dim, dtypes, where or torch.device("cpu"))
        )
        if where is not None:
            model.to(where)
        keywords = dict(kwargs)
    else:
        args, keywords = torchinfo.split_data(input_data)
        keywords = {**keywords, **kwargs}
    training = model.training
    if mode != "same":
        model.train(mode == "train")
    try:
        report = trace(model, *args, device=None if device is None else str(device), depth=depth, **keywords)
    finally:
        model.train(training)
    result = torchinfo.as_summary(report, model)
    if verbose:
        from torchshape.options import Shown
        from torchshape.render.table import render_table

        print(render_table(result, shown=Shown(params=verbose == 2)))  # torchinfo's contract: it prints
    return result


def inspect_module(module: Any, input: Any, hx: Any = None, *, explain: bool = False) -> Report:
    """The family report of one layer object you already have (``model.encoder.rnn``): its
    settings read from the module, run on its own weights and ``input`` (``torchshape model --layer``).

    ``module`` is an ``nn.LSTM``/``GRU``/``RNN`` or cell (``hx`` its initial state, zeros when
    None), an ``nn.Conv*d``/``ConvTranspose*d``, or a max, avg, LP or adaptive pool; any other
    module raises ``TypeError`` naming the families there are. ``explain`` adds the family's
    --explain, checked on these tensors. ``report.title`` says what the call saw (L, N).

        >>> report = inspect_module(model.encoder, torch.randn(4, 10, 16))
        >>> report.ok, [row.shape for row in report.rows if row.name == "h_n"]
    """
    from torchshape.api_checks import check_hx, check_module, check_switch, check_tensor
    from torchshape.families.model.layer import class_text, reads_own_weights, supported
    from torchshape.families.model.layer_probe import inspect_module as inspect_layer

    check_module("module", module)
    check_switch("explain", explain)
    if not reads_own_weights(module):
        raise TypeError(
            f"inspect_module: {class_text(module)} has no torchshape family; it takes {supported()}"
        )
    check_tensor("input", input)
    check_hx(module, hx)
    args = (input,) if hx is None else (input, tuple(hx) if isinstance(hx, list) else hx)
    title = f"{class_text(module).split()[-1]} given to inspect_module"
    return inspect_layer(module, args, {}, explain=explain, title=title, flag="input", name="the module")


def expr(
    expression: Any, *, device: str = "auto", explain: bool = False, diagram: bool = False, **tensors: Any
) -> Report:
    """The shape and dtype of a tensor expression, a step per sub-expression with the rule that
    decides it, each checked by torch (``torchshape expr``).

    ``tensors``: each name the expression uses, as a shape (``a=(3, 4)``), or as the command line
    writes it (``idx="5:int64:0-2"``, ``m="3,4:bool"``, ``xs="[1,3]*5"``). The expression is parsed
    with ``ast`` and checked against an allow-list first: a refused one raises ``UsageError`` and
    runs nothing. ``report.probe.analysis`` holds the steps, the result and, where torch refused a
    step, the failure with the fixes torch accepted (``report.ok`` is False then). ``explain``
    adds the values views of index tensors (on the CPU), ``diagram`` the broadcasting pictures.

        >>> report = expr("a[:, 0]", a=(3, 4))
        >>> report.probe.analysis.result.shape
    """
    from torchshape.families.expr.spec import ExprSpec, make_spec

    if isinstance(expression, ExprSpec):
        spec = expression
    else:
        texts = [f"{name}={_tensor_text(value)}" for name, value in tensors.items()]
        spec = make_spec(str(expression), texts, device=device, explain=explain, diagram=diagram)
    from torchshape.families.expr.family import FAMILY as EXPR

    return EXPR.inspect(spec)  # imports torch


def _tensor_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return ",".join(str(n) for n in value) if len(value) else "()"


def run_spec(spec: Any, **switches: Any) -> Report:
    """Run a checked spec (the command line's way in, after it checked its flags into ``spec``):
    the family's switches checked (``explain``, ``diagram``, rnn's ``unroll``), the guard, the
    forward pass, the report. Imports torch."""
    family = families.of(spec)
    family.check_switches(spec, **switches)
    if switches.get("explain"):  # refuse what cannot fit with --explain's checks beside the forward pass
        from torchshape.run_memory import check

        check(spec, explain=True)
    return family.inspect(spec, **switches)


def _inspect(table: tuple[Setting, ...], expected: type[Spec], spec: Any, given: dict[str, Any]) -> Report:
    """An ``inspect_*`` call, as the family's settings table says: the run's switches (``explain``,
    ``diagram``; rnn's ``unroll`` also goes to the spec) and the spec's switches checked, the spec
    made from the rest by the family's ``make_spec`` in Python's names, or given whole; then ``run_spec``."""
    from torchshape.api_checks import check_switch, fail

    if spec is not None and not isinstance(spec, expected):
        example = ", ".join(f"{row.name}={python_default(row, expected)!r}" for row in table[:2])
        raise fail(
            "spec",
            spec,
            f"expected {expected.__name__} or None, got {type(spec).__name__}; "
            f"pass the settings by name instead ({example}, ...)",
        )
    runs = {row.name: given.pop(row.name, False) for row in table if row.role in (Role.RUN, Role.BOTH)}
    for name, value in runs.items():
        check_switch(name, value)
    for row in table:
        if row.role is Role.SPEC and (row.is_switch or row.pair) and given.get(row.name) is not None:
            check_switch(row.name, given[row.name])
    family = families.family(expected.family)
    if spec is None:
        both = {row.name: runs[row.name] for row in table if row.role is Role.BOTH}
        spec = family.make_spec(**given, **both)
    elif given:
        raise TypeError(f"pass either {_article(expected)} {expected.__name__} or settings by name, not both")
    try:
        family.check_switches(spec, **runs)
    except UsageError as error:
        raise in_python_terms(error, {**given, **runs}, table, expected) from None
    return run_spec(spec, **runs)


_DEFAULT_TIMING = TimingSettings()


def with_timing(report: Report, settings: TimingSettings | None = _DEFAULT_TIMING) -> Report:
    """``report`` with its ``timing`` filled in: the forward pass it verified, timed on its device.

    Unchanged when ``settings`` is None, and when torch refused the inputs (there
    is no forward pass to time; the report already says why).
    """
    if settings is None or report.probe.error is not None:
        return report
    from torchshape.timing import measure

    return replace(report, timing=measure(report.spec, settings))
