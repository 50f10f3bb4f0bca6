"""The words ``torchshape expr`` allows (data): the torch and ``F`` functions, the dtypes, the
tensor methods and attributes. ``safety`` checks every name of an expression against them.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """The words of ``text``, split at white space: a table of names written as prose."""
    return frozenset(text.split())


# torch.X: functions that compute shapes and values of tensors, nothing else (no I/O, no hub,
# no load/save, no ops registry).
TORCH_FUNCTIONS = words(
    """
    abs add addmm all amax amin any arange argmax argmin argsort argwhere as_tensor atleast_1d
    atleast_2d atleast_3d baddbmm bitwise_and bitwise_not bitwise_or bitwise_xor block_diag bmm
    broadcast_shapes broadcast_tensors broadcast_to cartesian_prod cat ceil chunk clamp clip clone
    column_stack concat concatenate cos cosh count_nonzero cross cumprod cumsum diag diag_embed
    diagonal diff div dot dsplit dstack einsum empty empty_like eq exp expm1 eye flatten flip
    fliplr flipud float_power floor floor_divide fmod full full_like gather ge gt hsplit hstack
    index_select inner is_floating_point is_tensor isclose isfinite isinf isnan kron le lerp
    linspace log log10 log1p log2 log_softmax logical_and logical_not logical_or logical_xor
    logsumexp lt masked_fill masked_select matmul max maximum mean median min minimum mm moveaxis
    movedim mul multiply mv nan_to_num narrow ne neg nonzero norm numel ones ones_like outer
    permute pow prod promote_types rand rand_like randint randn randn_like ravel reciprocal
    relu remainder repeat_interleave reshape result_type roll rot90 round rsqrt select sigmoid
    sign sin sinh softmax sort split sqrt square squeeze stack std sub subtract sum swapaxes
    swapdims t take take_along_dim tan tanh tensor tensordot tensor_split tile topk trace
    transpose tril triu true_divide trunc unbind unflatten unique unsqueeze var vsplit vstack
    where zeros zeros_like Size
    """
)
# torch.X that are values: the dtypes.
TORCH_DTYPES = words(
    """
    bool uint8 int8 int16 short int32 int int64 long float16 half bfloat16 float32 float float64
    double complex64 cfloat complex128 cdouble
    """
)
# F.X (torch.nn.functional): the functional forms of layers and activations.
F_FUNCTIONS = words(
    """
    adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d
    adaptive_max_pool2d avg_pool1d avg_pool2d avg_pool3d bilinear conv1d conv2d conv3d
    conv_transpose1d conv_transpose2d conv_transpose3d cosine_similarity cross_entropy dropout
    elu embedding gelu glu group_norm hardtanh interpolate layer_norm leaky_relu linear
    log_softmax logsigmoid max_pool1d max_pool2d max_pool3d mse_loss nll_loss normalize one_hot
    pad pairwise_distance relu relu6 scaled_dot_product_attention selu sigmoid silu softmax
    softplus tanh unfold fold pixel_shuffle
    """
)
# x.NAME(...) on a tensor: methods that compute shapes, dtypes and values. No in-place
# methods that take a callable (apply_, map_), no storage, pointers, hooks, devices or files.
TENSOR_METHODS = words(
    """
    abs add all amax amin any argmax argmin argsort argwhere bfloat16 bmm bool broadcast_to byte
    ceil char chunk clamp clip clone contiguous cos cumprod cumsum detach diag diagonal dim div
    dot double eq exp expand expand_as flatten flip float floor gather ge gt half index_select
    int is_contiguous is_floating_point item le log log_softmax long lt masked_fill
    masked_select matmul max maximum mean median min minimum mm moveaxis movedim mul mv narrow
    ne neg new_empty new_full new_ones new_zeros nonzero norm numel permute pow prod reciprocal
    relu remainder repeat repeat_interleave reshape reshape_as roll round rsqrt select short
    sigmoid sign sin size softmax sort split sqrt square squeeze std stride sub sum swapaxes
    swapdims t take tanh tile tolist topk transpose tril triu type type_as unbind unflatten
    unique unsqueeze var view view_as where
    """
) | {"to"}
TENSOR_ATTRIBUTES = frozenset({"shape", "dtype", "ndim", "T", "mT", "H", "mH", "is_leaf"})
# attributes of what torch returns besides tensors: torch.max(x, 1).values, torch.Size's numel()
OTHER_ATTRIBUTES = frozenset({"values", "indices", "numel"})
