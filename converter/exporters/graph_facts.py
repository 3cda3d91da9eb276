"""Facts about an exported graph that predict whether a runtime will take it.

Core ML, ExecuTorch and TensorRT each accept a subset of operators: an artifact calling
non-core ATen or custom operators, or keeping many symbolic dimensions and run-time asserts,
is the one that will need work there. Recorded for every artifact in result.json (`graph`),
as MLflow metrics (graph/...) and in the sweep summary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, Iterable

# Operators torch.export inserts to check shapes and values at run time.
_ASSERT_OPS = ("_assert_scalar", "_assert_async", "sym_constrain_range", "_assert_tensor_metadata")
_BUILTIN_NAMESPACES = ("aten", "prims", "_operator", "builtins", "math")


def exported_program_facts(program: Any) -> Dict[str, Any]:
    import torch

    histogram: Counter = Counter()
    non_core, custom = set(), set()
    asserts = 0
    for node in program.graph.nodes:
        if node.op != "call_function":
            continue
        name = str(node.target)
        histogram[name] += 1
        if any(op in name for op in _ASSERT_OPS):
            asserts += 1
            continue
        if isinstance(node.target, torch._ops.OpOverload):
            namespace = node.target.namespace
            if namespace not in _BUILTIN_NAMESPACES:
                custom.add(name)
            elif namespace == "aten" and torch.Tag.core not in node.target.tags:
                non_core.add(name)
    symbols = set()
    for node in program.graph.nodes:
        if node.op == "placeholder":
            value = node.meta.get("val")
            for size in getattr(value, "shape", ()) or ():
                if isinstance(size, torch.SymInt):
                    symbols |= {str(s) for s in size.node.expr.free_symbols}
    return _facts(histogram, non_core, custom, asserts, len(symbols), _tensors(program.state_dict, program.constants))


def torchscript_facts(module: Any) -> Dict[str, Any]:
    """Node kinds of the inlined graph, nested blocks (if, loop) included. TorchScript keeps no
    symbolic shapes and inserts no asserts; ATen's core set is not its vocabulary (None)."""
    histogram: Counter = Counter()

    def visit(nodes: Iterable[Any]) -> None:
        for node in nodes:
            histogram[node.kind()] += 1
            for block in node.blocks():
                visit(block.nodes())

    visit(module.inlined_graph.nodes())
    custom = {k for k in histogram if k.split("::")[0] not in ("aten", "prim", "profiler")}
    facts = _facts(histogram, set(), custom, 0, 0, _tensors(module.state_dict()))
    facts["non_core_aten_ops"] = None
    facts["symbolic_dims"] = None
    return facts


def _tensors(*mappings: Any) -> Dict[str, int]:
    import torch

    count = size = 0
    seen = set()
    for mapping in mappings:
        for value in (mapping or {}).values():
            if isinstance(value, torch.Tensor) and id(value) not in seen:
                seen.add(id(value))
                count += value.numel()
                size += value.numel() * value.element_size()
    return {"parameters": count, "parameter_bytes": size}


def _facts(
    histogram: Counter, non_core: set, custom: set, asserts: int, symbols: int, tensors: Dict[str, int]
) -> Dict[str, Any]:
    return {
        "operator_count": sum(histogram.values()),
        "operators": dict(histogram.most_common()),
        "non_core_aten_ops": sorted(non_core),
        "custom_ops": sorted(custom),
        "runtime_asserts": asserts,
        "symbolic_dims": symbols,
        **tensors,
    }


def onnx_facts(model: Any) -> Dict[str, Any]:
    """Op types per domain, custom (non-ONNX) domains, symbolic input dims, initializer sizes."""
    import numpy as np
    from onnx import helper

    histogram: Counter = Counter(f"{n.domain or 'ai.onnx'}::{n.op_type}" for n in model.graph.node)
    custom = {name for name in histogram if not name.startswith(("ai.onnx::", "ai.onnx.ml::"))}
    symbols = {d.dim_param for i in model.graph.input for d in i.type.tensor_type.shape.dim if d.dim_param}
    count = size = 0
    for initializer in model.graph.initializer:
        elements = int(np.prod(initializer.dims)) if initializer.dims else 1
        count += elements
        size += elements * helper.tensor_dtype_to_np_dtype(initializer.data_type).itemsize
    facts = _facts(histogram, set(), custom, 0, len(symbols), {"parameters": count, "parameter_bytes": size})
    facts["non_core_aten_ops"] = None
    return facts


def coreml_facts(model: Any) -> Dict[str, Any]:
    """MIL operations of an mlprogram (layer types of a neuralnetwork); flexible input dims; weights."""
    import numpy as np

    histogram: Counter = Counter()
    program = getattr(model, "_mil_program", None)
    count = size = 0
    if program is not None:

        def visit(operations: Iterable[Any]) -> None:
            nonlocal count, size
            for op in operations:
                histogram[op.op_type] += 1
                value = getattr(getattr(op, "val", None), "val", None)
                if op.op_type == "const" and isinstance(value, np.ndarray):
                    count += value.size
                    size += value.nbytes
                for block in getattr(op, "blocks", ()):
                    visit(block.operations)

        for function in program.functions.values():
            visit(function.operations)
    else:
        histogram.update(layer.WhichOneof("layer") for layer in model.get_spec().neuralNetwork.layers)
    flexible = 0
    for description in model.get_spec().description.input:
        kind = description.type.WhichOneof("Type")
        ranges = getattr(getattr(description.type, kind), "shapeRange", None)
        flexible += sum(1 for r in getattr(ranges, "sizeRanges", []) if r.lowerBound != r.upperBound)
    facts = _facts(histogram, set(), set(), 0, flexible, {"parameters": count, "parameter_bytes": size})
    facts["non_core_aten_ops"] = None
    return facts


def openvino_facts(model: Any) -> Dict[str, Any]:
    """OpenVINO operations by opset, dynamic input dims, constant (weight) sizes."""
    histogram: Counter = Counter()
    count = size = 0
    for op in model.get_ordered_ops():
        kind = op.get_type_info()
        histogram[f"{kind.version_id}::{kind.name}"] += 1
        if kind.name == "Constant":
            elements = 1
            for dim in op.get_output_shape(0):
                elements *= int(dim)
            count += elements
            size += elements * op.get_output_element_type(0).size
    dynamic = sum(1 for port in model.inputs for dim in port.get_partial_shape() if dim.is_dynamic)
    facts = _facts(histogram, set(), set(), 0, dynamic, {"parameters": count, "parameter_bytes": size})
    facts["non_core_aten_ops"] = None
    return facts
