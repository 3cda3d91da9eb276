"""ExecuTorch (`model.pte`, in a `.executorch` folder) from the torch.export program, its operators
delegated to XNNPACK, run with ExecuTorch's Python runtime (Linux x86 and Arm; what phones run).

The lowering may narrow a Dim: XNNPACK bounds each dynamic tensor, and resnet18's batch came out
[2, 15] whatever the Dim's max (ExecuTorch 1.5.1; calls past it fail with "Attempted to resize a
bounded tensor"). The range the lowered program keeps is recorded (`export_info.dims_supported`)
and validation runs at the sizes that remain, never silently fewer. Graph facts give the share
of operators XNNPACK took and name those left to ExecuTorch's portable kernels.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from converter.config.backend_options import ExecuTorchOptions
from converter.exporters.base import ExportRequest

PTE, SIDECAR = "model.pte", "converter.json"
_NOT_OPERATORS = ("getitem", "executorch_call_delegate", "sym_size")


@dataclass
class ExecuTorchArtifact:
    buffer: bytes
    lowered: Any
    out_spec: str
    dims_supported: Dict[str, Dict[str, int]]
    # Counted on the lowered edge program, before to_executorch() rewrites it to out-variants.
    delegated: Counter
    left_out: Counter


class ExecuTorchExporter:
    name = "executorch"
    suffix = ".executorch"
    Options = ExecuTorchOptions
    requires = ("executorch",)
    # ExecuTorch allocates outside torch: the profiler cannot see its memory.
    memory_visible = False
    extra = "executorch"

    def export(self, request: ExportRequest) -> Any:
        import torch.utils._pytree as pytree
        from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

        from converter.exporters.torch_export import TorchExportExporter, TorchExportOptions

        program_options = TorchExportOptions(no_grad=request.options.no_grad, draft_report=False)
        program = TorchExportExporter().export(replace(request, options=program_options))
        partitioners = []
        if request.options.delegate == "xnnpack":
            from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

            partitioners.append(XnnpackPartitioner())
        # The Edge verifier runs after lowering, where it cannot pin a Dim (_verify_edge_dialect).
        edge = to_edge_transform_and_lower(
            program, partitioner=partitioners, compile_config=EdgeCompileConfig(_check_ir_validity=False)
        )
        lowered = edge.exported_program()
        _verify_edge_dialect(lowered)
        supported = dims_supported(request.dynamic_shapes, lowered)
        if supported:
            request.notes["dims_supported"] = supported
        delegated, left_out = delegated_operators(lowered), left_out_operators(lowered)
        buffer = edge.to_executorch().buffer
        out_spec = pytree.treespec_dumps(program.call_spec.out_spec)
        return ExecuTorchArtifact(buffer, lowered, out_spec, supported, delegated, left_out)

    def save(self, artifact: Any, path: Path) -> None:
        path.mkdir(parents=True)
        (path / PTE).write_bytes(artifact.buffer)
        (path / SIDECAR).write_text(json.dumps({"out_spec": artifact.out_spec}))

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        return ExecuTorchModule(path, threads)

    def graph_code(self, artifact: Any) -> str:
        return artifact.lowered.graph_module.code

    def operators(self, artifact: Any) -> List[str]:
        return sorted({*artifact.delegated, *artifact.left_out})

    def facts(self, artifact: Any) -> Dict[str, Any]:
        from converter.exporters.graph_facts import exported_program_facts

        facts = exported_program_facts(artifact.lowered)
        delegated, left_out = artifact.delegated, artifact.left_out
        total = sum(delegated.values()) + sum(left_out.values())
        facts["delegated_share"] = round(sum(delegated.values()) / total, 4) if total else None
        facts["not_delegated"] = dict(left_out.most_common())
        return facts


def _verify_edge_dialect(lowered: Any) -> None:
    """ExecuTorch's Edge dialect checks (core ATen operators, dtypes each operator allows) on the
    lowered program, with the program's shape guards suppressed; raises SpecViolationError.

    Run inside the lowering, as ExecuTorch 1.5.1 does, the dtype check calls len() on the first
    tensor of an operator returning a list (split, chunk), which pins that tensor's first dim to
    the example's size: every Dim ahead of a chunk (YOLO's C3k2 blocks) came out static. Run here,
    it checks what the delegate left to the portable kernels, as ExecuTorch's own last check does;
    it no longer sees the dtype of a value a delegate computes, so the cat of SAM's integer labels
    with one is left to the portable kernel, which promotes as torch does (validation judges it).
    """
    from contextlib import nullcontext

    import torch
    from executorch.exir import EdgeCompileConfig
    from executorch.exir.verification.verifier import EXIREdgeDialectVerifier

    values = (n.meta.get("val") for n in lowered.graph.nodes if n.op == "placeholder")
    fake_modes = (getattr(v, "fake_mode", None) for v in values if isinstance(v, torch.Tensor))
    shape_env = next((mode.shape_env for mode in fake_modes if mode is not None and mode.shape_env), None)
    verifier = EXIREdgeDialectVerifier(edge_compile_config=EdgeCompileConfig(), class_only=False)
    with shape_env.suppress_guards() if shape_env is not None else nullcontext():
        verifier(lowered.graph_module)


def _op_name(target: Any) -> str:
    """'aten.convolution.default' for an operator (an edge dialect one too), 'view' for a Python function."""
    wrapped = getattr(target, "_op", None)
    if hasattr(wrapped, "_schema"):  # executorch's EdgeOpOverload wraps the ATen overload
        return str(wrapped)
    # A torch OpOverload's own `_op` is its pybind11 function, whose str is an address: its own str names it.
    if callable(target) and not hasattr(target, "_schema"):
        return getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or str(target)
    return str(target)


def delegated_operators(lowered: Any) -> Counter:
    """Operators inside the delegate's subgraphs (what XNNPACK runs)."""
    found: Counter = Counter()
    for module in lowered.graph_module.modules():
        original = getattr(module, "original_module", None)
        if original is not None:
            found.update(_op_name(n.target) for n in original.graph.nodes if n.op == "call_function")
    return found


def left_out_operators(lowered: Any) -> Counter:
    """Operators the delegate did not take, left to ExecuTorch's portable kernels."""
    targets = (_op_name(n.target) for n in lowered.graph.nodes if n.op == "call_function")
    return Counter(t for t in targets if not any(word in t for word in _NOT_OPERATORS))


def dims_supported(dynamic_shapes: Any, lowered: Any) -> Dict[str, Dict[str, int]]:
    """{Dim name: {min, max}} for each Dim whose range the lowered program narrowed, a Dim it made
    static too (min = max = the one size the program takes). The lowering can narrow a Dim in the
    fake tensors' shape environment while range_constraints keeps the declared one (a gated
    convolution's batch declared [1, 32]: range_constraints still up to 32, input buffer planned
    for 15): the planned bound is what calls run into."""
    import torch
    from executorch.exir.sym_util import eval_upper_bound

    declared = _declared_dims(dynamic_shapes)
    placeholders = [
        n for n in lowered.graph.nodes if n.op == "placeholder" and n.name in lowered.graph_signature.user_inputs
    ]
    values = [n.meta.get("val") for n in placeholders]
    values = [v for v in values if isinstance(v, torch.Tensor)]
    narrowed: Dict[str, Dict[str, int]] = {}
    for (position, index), dim in declared.items():
        if position >= len(values) or index >= values[position].dim():
            continue
        size = values[position].shape[index]
        if isinstance(size, int):  # the lowering pinned the Dim to one size
            if dim.min != dim.max:
                narrowed[dim.__name__] = {"min": size, "max": size, "declared_min": dim.min, "declared_max": dim.max}
            continue
        try:  # the bound ExecuTorch's memory planning sizes the input's buffer by, not range_constraints'
            upper = eval_upper_bound(size)
        except RuntimeError:  # unbounded and no hint: nothing planned narrower than the Dim
            continue
        if upper < dim.max:
            narrowed[dim.__name__] = {"min": dim.min, "max": upper, "declared_max": dim.max}
    return narrowed


def _declared_dims(dynamic_shapes: Any) -> Dict[tuple, Any]:
    """(input position, dim index) -> torch.export.Dim, from the request's positional or by-name shapes."""
    per_input = list(dynamic_shapes.values()) if isinstance(dynamic_shapes, dict) else list(dynamic_shapes or [])
    found = {}
    for position, spec in enumerate(per_input):
        if isinstance(spec, dict):
            for index, dim in spec.items():
                if hasattr(dim, "max"):
                    found[(position, int(index))] = dim
    return found


class ExecuTorchModule:
    """An ExecuTorch method called like the eager module: tensors in, the eager structure out."""

    def __init__(self, path: Path, threads: Optional[int]) -> None:
        import torch
        import torch.utils._pytree as pytree
        from executorch.extension.pybindings import portable_lib
        from executorch.runtime import Runtime

        self.threads = int(threads or torch.get_num_threads())
        portable_lib._unsafe_reset_threadpool(self.threads)
        self.method = Runtime.get().load_program(str(path / PTE)).load_method("forward")
        spec = json.loads((path / SIDECAR).read_text()).get("out_spec")
        self.out_spec = pytree.treespec_loads(spec) if spec else None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch
        import torch.utils._pytree as pytree

        tensors = [leaf.contiguous() for leaf in pytree.tree_leaves((args, kwargs)) if isinstance(leaf, torch.Tensor)]
        outputs = [o.clone() for o in self.method.execute(tensors)]
        if self.out_spec is None:
            return outputs[0] if len(outputs) == 1 else tuple(outputs)
        return pytree.tree_unflatten(outputs, self.out_spec)
