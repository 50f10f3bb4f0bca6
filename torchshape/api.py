"""The Python API: the same inspection as the command line, returning data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from torchshape import families
from torchshape.errors import UsageError
from torchshape.families.attention.spec import AttentionSpec
from torchshape.families.conv.spec import ConvSpec
from torchshape.families.embedding.spec import EmbeddingSpec
from torchshape.families.norm.spec import NormSpec
from torchshape.families.pool.spec import PoolSpec
from torchshape.families.rnn.spec import FLAGS, RNNSpec
from torchshape.families.transformer.spec import TransformerSpec
from torchshape.report import Report, Summary
from torchshape.timing import TimingSettings


def inspect(
    spec: RNNSpec | None = None,
    *,
    explain: bool = False,
    unroll: bool = False,
    diagram: bool = False,
    names: Mapping[str, str] | None = None,
    **settings: Any,
) -> Report:
    """Build the recurrent module, run it, and return every shape with its formula.

    Pass an ``RNNSpec`` or the settings of one by name (PyTorch's names:
    ``kind``, ``input_size``, ``hidden_size``, ``num_layers``, ``seq_len``, ``batch``,
    ``bidirectional``, ``batch_first``, ``proj_size``, ``bias``, ``dropout``,
    ``nonlinearity``, ``unbatched``, ``device``, ``dtype``, ``lengths``). Nothing is printed.
    ``explain`` checks how output relates to h_n, ``unroll`` runs the step-by-step loop
    beside the one call (``report.probe.analysis`` holds both, and the packed batch).
    ``diagram`` draws the unrolled network, every mapping checked (``report.probe.diagram``).
    Bad settings raise ``UsageError`` naming the argument (``proj_size=3: ...``);
    the command line passes ``names=FLAGS`` to name its flags instead.

        >>> report = inspect(kind="lstm", num_layers=2, bidirectional=True)
        >>> report.ok, [row.shape for row in report.rows if row.name == "h_n"]
    """
    from torchshape.families.rnn.python_names import in_python_terms
    from torchshape.families.rnn.request import make_spec

    _check(
        spec,
        RNNSpec,
        "kind='lstm', hidden_size=20, ...",
        settings,
        explain=explain,
        unroll=unroll,
        diagram=diagram,
    )
    if spec is None:
        spec = make_spec(unroll=unroll, names=names, **settings)
    elif settings:
        raise TypeError("pass either an RNNSpec or settings by name, not both")
    switches = {"explain": explain, "unroll": unroll, "diagram": diagram}
    try:
        families.family("rnn").check_switches(spec, **switches)
    except UsageError as error:
        if names == FLAGS:
            raise
        raise in_python_terms(error, {**settings, "explain": explain, "unroll": unroll}) from None
    return run_spec(spec, **switches)


def inspect_conv(
    spec: ConvSpec | None = None, *, explain: bool = False, diagram: bool = False, **settings: Any
) -> Report:
    """Build the convolution, run it, and return every shape with its formula.

    Pass a ``ConvSpec`` or its settings by name (PyTorch's names: ``dims``,
    ``in_channels``, ``out_channels``, ``kernel_size``, ``stride``, ``padding``,
    ``dilation``, ``groups``, ``output_padding``, ``padding_mode``, ``bias``,
    ``transposed``, ``size``, ``batch``, ``unbatched``, ``device``, ``dtype``); a size is
    an int or one per axis. Bad settings raise ``UsageError`` naming the argument
    (``kernel_size=5: ...``). ``explain`` checks the --explain claims on torch; ``diagram`` draws
    one axis' windows, their count checked against torch's output (``report.probe.diagram``).

        >>> report = inspect_conv(kernel_size=3, stride=2, padding=1, size=(32, 24))
        >>> report.ok, [row.shape for row in report.rows]
    """
    return _inspect(
        ConvSpec, "kernel_size=3, size=(32, 32), ...", spec, settings, explain=explain, diagram=diagram
    )


def inspect_pool(
    spec: PoolSpec | None = None, *, explain: bool = False, diagram: bool = False, **settings: Any
) -> Report:
    """Build the pool, run it, and return every shape with its formula (``torchshape pool``).

    Pass a ``PoolSpec`` or its settings by name, in PyTorch's names: ``kind`` (max, avg, lp,
    adaptive-max, adaptive-avg), ``dims``, ``channels``, ``size``, ``batch``, ``unbatched``,
    ``kernel_size``, ``stride``, ``padding``, ``dilation``, ``ceil_mode``, ``count_include_pad``,
    ``return_indices``, ``norm_type``, ``output_size``, ``device``, ``dtype``; per-axis settings
    take an int or one per axis. Bad settings raise ``UsageError`` naming the argument.
    ``explain`` checks what each window reads (``report.probe.analysis.findings``); ``diagram``
    draws one axis' windows (``report.probe.diagram``).

        >>> report = inspect_pool(kind="max", size=(8, 7), kernel_size=2, ceil_mode=True)
        >>> report.ok, report.rows[1].shape
    """
    return _inspect(
        PoolSpec, "kind='max', kernel_size=2, ...", spec, settings, explain=explain, diagram=diagram
    )


def inspect_attention(
    spec: AttentionSpec | None = None, *, explain: bool = False, diagram: bool = False, **settings: Any
) -> Report:
    """Build nn.MultiheadAttention, run it, and return every shape with its formula
    (``torchshape attention``).

    Pass an ``AttentionSpec`` or its settings by name, in PyTorch's names: ``embed_dim``,
    ``num_heads``, ``kdim``, ``vdim``, ``target_len`` (L), ``source_len`` (S), ``batch``,
    ``batch_first``, ``unbatched``, ``self_attention``, ``need_weights``,
    ``average_attn_weights``, ``key_padding_mask`` (bool: feed one), ``attn_mask``
    ("none", "2d", "3d"), ``mask_dtype`` ("bool", "float"), ``is_causal``, ``add_bias_kv``,
    ``add_zero_attn``, ``bias``, ``dropout``, ``device``, ``dtype``. Bad settings raise
    ``UsageError`` naming the argument (``embed_dim=25: ...``). ``explain`` checks the
    --explain claims on torch (``report.probe.analysis.claims``); ``diagram`` draws the
    weights' L × S' grid of one sequence and head, where torch gave 0 checked against the masks
    (``report.probe.diagram``).

        >>> report = inspect_attention(embed_dim=24, num_heads=4, average_attn_weights=False)
        >>> report.ok, [row.shape for row in report.rows]
    """
    return _inspect(
        AttentionSpec, "embed_dim=24, num_heads=4, ...", spec, settings, explain=explain, diagram=diagram
    )


def inspect_embedding(spec: EmbeddingSpec | None = None, *, explain: bool = False, **settings: Any) -> Report:
    """Build nn.Embedding or nn.EmbeddingBag, run it, and return every shape with its formula
    (``torchshape embedding``).

    Pass an ``EmbeddingSpec`` or its settings by name, in PyTorch's names: ``num_embeddings``,
    ``embedding_dim``, ``shape`` (the index tensor's, any number of dimensions), ``padding_idx``,
    ``max_norm``; ``bag=True`` for nn.EmbeddingBag with ``mode`` (sum, mean, max) and either
    ``bags`` and ``bag_size`` (a 2-D input) or ``offsets`` with ``include_last_offset`` (a 1-D
    input of length ``shape``), ``per_sample_weights`` (sum only); ``device``, ``dtype``.
    Bad settings raise ``UsageError`` naming the argument. ``explain`` checks the index range,
    padding_idx, each bag and max_norm on forward passes (``report.probe.analysis.findings``).

        >>> report = inspect_embedding(bag=True, offsets=(0, 2, 2), include_last_offset=True, shape=5)
        >>> report.ok, report.rows[-1].shape
    """
    return _inspect(
        EmbeddingSpec, "num_embeddings=100, embedding_dim=16, ...", spec, settings, explain=explain
    )


def inspect_transformer(
    spec: TransformerSpec | None = None, *, explain: bool = False, **settings: Any
) -> Report:
    """Build the transformer layer (or nn.Transformer), run it, and return every shape and mask
    with its formula (``torchshape transformer``).

    Pass a ``TransformerSpec`` or its settings by name, in PyTorch's names: ``layer`` (encoder,
    decoder, encoder-stack, decoder-stack, full), ``d_model``, ``nhead``, ``dim_feedforward``,
    ``num_encoder_layers``, ``num_decoder_layers``, a stack's ``num_layers`` and ``final_norm``,
    ``batch_first``, ``norm_first``, ``source_len``, ``target_len``,
    ``batch``, ``src_mask``/``tgt_mask``/``memory_mask`` (none, 2d, 3d), ``causal``, the three
    ``*_key_padding_mask`` (none, bool, float), ``device``, ``dtype``. Bad settings raise
    ``UsageError`` naming the argument. ``explain`` checks the mask and memory claims on torch.

        >>> report = inspect_transformer(layer="decoder", causal=True, memory_key_padding_mask="bool")
        >>> report.ok, [row.shape for row in report.rows]
    """
    return _inspect(TransformerSpec, "layer='encoder', d_model=32, ...", spec, settings, explain=explain)


def inspect_norm(spec: NormSpec | None = None, *, explain: bool = False, **settings: Any) -> Report:
    """Build the normalization layer, run it, and return every shape, parameter and buffer with
    its formula, and the dimensions its statistics are taken over, checked on the output's values
    (``torchshape norm``).

    Pass a ``NormSpec`` or its settings by name, in PyTorch's names: ``kind`` (batch, layer,
    group, instance, rms), ``dims``, ``num_features``, ``normalized_shape``, ``num_groups``,
    ``eps``, ``affine``, ``track_running_stats``, ``elementwise_affine``, ``size``, ``batch``,
    ``unbatched``, ``train``, ``device``, ``dtype``. Bad settings raise ``UsageError`` naming the
    argument. ``explain`` checks the classic mistakes on torch (``report.probe.analysis.findings``).

        >>> report = inspect_norm(kind="group", num_features=6, num_groups=3)
        >>> report.ok, report.probe.analysis.statistics.holds
    """
    return _inspect(NormSpec, "kind='layer', normalized_shape=(16,), ...", spec, settings, explain=explain)


def trace(
    model: Any, *inputs: Any, device: str | None = None, depth: int | None = None, **keywords: Any
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
    _guard(spec, explain=bool(switches.get("explain")))
    return family.inspect(spec, **switches)


def _inspect(expected: Any, example: str, spec: Any, settings: dict[str, Any], **switches: Any) -> Report:
    """An ``inspect_*`` call: its arguments checked, its spec made from ``settings`` (``expected``'s
    family's ``make_spec``, names in Python's terms) or given whole, then ``run_spec``."""
    _check(spec, expected, example, settings, **switches)
    if spec is None:
        spec = families.family(expected.family).make_spec(**settings)
    elif settings:
        article = "an" if expected.__name__[0] in "AEIOU" else "a"
        raise TypeError(f"pass either {article} {expected.__name__} or settings by name, not both")
    return run_spec(spec, **switches)


def _guard(spec: Any, *, explain: bool) -> None:
    """Refuse what cannot fit with --explain's checks beside the forward pass (``run_memory``)."""
    if explain:
        from torchshape.run_memory import check

        check(spec, explain=explain)


def _check(
    spec: Any, expected: type, settings: str, given: Mapping[str, Any] | None = None, **switches: Any
) -> None:
    """The spec object, the switches of an ``inspect*`` call and the settings that are switches
    (``bias``, ``batch_first``: True, False or None), each error naming its argument."""
    from torchshape.api_checks import check_spec, check_switch, switch_settings

    check_spec(spec, expected, settings)
    for name, value in switches.items():
        check_switch(name, value)
    for name in switch_settings(expected) & set(given or {}):
        if (given or {})[name] is not None:
            check_switch(name, (given or {})[name])


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
