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
