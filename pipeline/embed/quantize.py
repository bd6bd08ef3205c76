"""int8 quantization of an exported transformer, with activations quantized per token.

onnxruntime's dynamic quantization stores weights as int8 (per output channel) and quantizes
each matrix multiplication's input at run time with one scale for the whole tensor: every
token of every text in the batch, padding included. A text's vector then depends on the texts
it was batched with (measured on the sample: cosine 0.988 between a text encoded alone and in
a batch of 64), which breaks what the embedding cache assumes (a vector is a function of its
text) and makes a resumed run differ from an uninterrupted one.

So each `DynamicQuantizeLinear` is rewritten to quantize per token: symmetric, scale =
max |x| / 127 over the token's own features, zero point 128. A token's rounding then depends
on nothing but itself, and the vectors are closer to fp32 (mean cosine 0.995 instead of 0.990
on the sample corpus, top-1 agreement 96.7% instead of 93.5%), for about 15% of the int8
speed. The integer matmul stays onnxruntime's fused kernel (it needs a scalar input scale, so
it is given 1.0 and the per-token scale is applied to its output).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

_ONE = "per_token/one"


def quantize(fp32_path: Path, int8_path: Path) -> int:
    """Quantize `fp32_path` to `int8_path`; returns how many inputs are quantized per token."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer's advice goes to the root logger
    try:
        quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"],
                         extra_options={"MatMulConstBOnly": True,
                                        "DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)
    model = onnx.load(str(int8_path))
    rewritten = per_token_activations(model)
    half_precision_tables(model)
    onnx.save(model, str(int8_path))
    return rewritten


def half_precision_tables(model: Any, min_values: int = 1_000_000) -> int:
    """Store large lookup tables (the word embeddings) in fp16, cast back after the lookup.

    A lookup does no arithmetic, so fp16 only rounds each value once (relative error under
    0.05%), while the file and the process' memory shrink by half the table: 192 MB for
    multilingual-e5-small's 250,037 x 384 table. Returns how many tables were converted.
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    tables = {t.name: t for t in graph.initializer
              if t.data_type == TensorProto.FLOAT and np.prod(t.dims) >= min_values}
    nodes: list[Any] = []
    converted = 0
    for node in graph.node:
        nodes.append(node)
        if node.op_type != "Gather" or node.input[0] not in tables:
            continue
        table = tables.pop(node.input[0])
        half = numpy_helper.from_array(numpy_helper.to_array(table).astype(np.float16),
                                       table.name)
        table.CopyFrom(half)
        looked_up = node.output[0]
        node.output[0] = f"{looked_up}/fp16"
        nodes.append(helper.make_node("Cast", [node.output[0]], [looked_up],
                                      name=f"{looked_up}/to_fp32", to=TensorProto.FLOAT))
        converted += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return converted


def per_token_activations(model: Any) -> int:
    """Rewrite, in place, every DynamicQuantizeLinear whose outputs feed only
    MatMulInteger -> Cast -> Mul chains (what quantize_dynamic makes) to per-token scales."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)

    def chain(quantized: str) -> list[Any] | None:
        """The output-scale Mul of each integer matmul fed by `quantized`, if all fit."""
        muls = []
        for matmul in consumers[quantized]:
            if matmul.op_type != "MatMulInteger" or matmul.input[0] != quantized:
                return None
            casts = consumers[matmul.output[0]]
            if len(casts) != 1 or casts[0].op_type != "Cast":
                return None
            scales = consumers[casts[0].output[0]]
            if len(scales) != 1 or scales[0].op_type != "Mul":
                return None
            muls.append(scales[0])
        return muls

    constants: dict[str, np.ndarray] = {"per_token/127": np.array(127.0, np.float32),
                 "per_token/tiny": np.array(1e-12, np.float32),
                 "per_token/zero_point": np.array(128, np.uint8),
                 "per_token/flat": np.array([-1], np.int64),
                 "per_token/batch_axis": np.array(0, np.int64)}
    replaced: dict[str, str] = {}  # old scale / zero point -> new
    rescale: dict[str, str] = {}  # output of an output-scale Mul -> its row scale
    nodes: list[Any] = []
    count = 0
    for node in graph.node:
        muls = chain(node.output[0]) if node.op_type == "DynamicQuantizeLinear" else None
        if not muls:
            nodes.append(node)
            continue
        x, (quantized, scale, zero_point) = node.input[0], node.output
        p = f"per_token/{count}"

        def add(op: str, inputs: list[str], output: str, p: str = p, **attrs: Any) -> str:
            nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
            return output

        def reduce(op: str, output: str, x: str = x, p: str = p) -> str:
            if opset >= 18:  # axes became an input
                axes = f"{p}/axes"
                if axes not in constants:
                    constants[axes] = np.array([-1], np.int64)
                return add(op, [x, axes], output, keepdims=1)
            return add(op, [x], output, axes=[-1], keepdims=1)

        high = reduce("ReduceMax", f"{p}/max")
        low = add("Neg", [reduce("ReduceMin", f"{p}/min")], f"{p}/neg_min")
        amax = add("Max", [high, low], f"{p}/amax")  # max |x| without an |x| copy
        row_scale = add("Max", [add("Div", [amax, "per_token/127"], f"{p}/scale0"),
                                "per_token/tiny"], f"{p}/scale")  # [..., tokens, 1]
        rows = add("Flatten", [x], f"{p}/rows", axis=-1)  # [batch * tokens, features]
        flat_scale = add("Reshape", [row_scale, "per_token/flat"], f"{p}/flat_scale")
        zero_points = add("Expand", ["per_token/zero_point",
                                     add("Shape", [flat_scale], f"{p}/n_rows")], f"{p}/zps")
        q_rows = add("QuantizeLinear", [rows, flat_scale, zero_points], f"{p}/q_rows", axis=0)
        add("Reshape", [q_rows, add("Shape", [x], f"{p}/shape")], quantized)
        replaced[scale], replaced[zero_point] = _ONE, "per_token/zero_point"
        for mul in muls:
            rescale[mul.output[0]] = row_scale
        count += 1
    if not count:
        return 0
    # A scalar 1.0 computed at run time (batch size / batch size): a constant would be
    # folded into the weight scales, and onnxruntime would no longer fuse the integer matmul.
    first_input = graph.input[0].name
    prologue = [
        helper.make_node("Shape", [first_input], ["per_token/input_shape"]),
        helper.make_node("Gather", ["per_token/input_shape", "per_token/batch_axis"],
                         ["per_token/batch"], axis=0),
        helper.make_node("Div", ["per_token/batch", "per_token/batch"], ["per_token/one_int"]),
        helper.make_node("Cast", ["per_token/one_int"], [_ONE], to=TensorProto.FLOAT),
    ]
    final = list(prologue)
    for node in nodes:
        for i, name in enumerate(node.input):
            if name in replaced:
                node.input[i] = replaced[name]
        final.append(node)
        target = node.output[0] if node.output else ""
        if node.op_type == "Mul" and target in rescale:
            node.output[0] = f"{target}/unscaled"
            final.append(helper.make_node("Mul", [node.output[0], rescale[target]], [target],
                                          name=f"{target}/per_token"))
    del graph.node[:]
    graph.node.extend(final)
    graph.initializer.extend(numpy_helper.from_array(value, name)
                             for name, value in constants.items())
    return count
