"""ONNX (`.onnx`) through torch.export (`torch.onnx.export(..., dynamo=True)`), run with ONNX Runtime.

The model's Dims become the graph's symbolic dimensions. ONNX flattens outputs into a list,
so the torch.export program's output tree spec is kept in the model's metadata and the
loaded session hands back the eager structure (dicts, tuples) for validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Optional

from converter.config.backend_options import OnnxOptions
from converter.exporters.base import ExportRequest

OUT_SPEC_KEY = "converter.out_spec"
LEVEL_KEY = "converter.graph_optimization_level"
THREADS_KEY = "converter.intra_op_threads"


class OnnxExporter:
    name = "onnx"
    suffix = ".onnx"
    Options = OnnxOptions
    requires = ("onnx", "onnxruntime", "onnxscript")
    # ONNX Runtime allocates outside torch: the profiler cannot see its memory.
    memory_visible = False
    extra = "onnx"

    def export(self, request: ExportRequest) -> Any:
        import torch
        import torch.utils._pytree as pytree

        with torch.no_grad():
            program = torch.onnx.export(
                request.module,
                request.example_inputs,
                kwargs=request.example_kwargs or None,
                dynamo=True,
                dynamic_shapes=request.dynamic_shapes,
                input_names=_graph_input_names(request),
                opset_version=request.options.opset,
                optimize=request.options.optimize,
                verbose=False,
            )
        # What the session needs to answer like eager, kept in the file for any later process.
        metadata = program.model.metadata_props
        metadata[LEVEL_KEY] = request.options.graph_optimization_level
        if request.options.intra_op_threads:
            metadata[THREADS_KEY] = str(request.options.intra_op_threads)
        if program.exported_program is not None:
            metadata[OUT_SPEC_KEY] = pytree.treespec_dumps(program.exported_program.call_spec.out_spec)
        return program

    def save(self, artifact: Any, path: Path) -> None:
        artifact.save(str(path))

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        return OnnxRuntimeModule(path, device, threads)

    def graph_code(self, artifact: Any) -> str:
        import onnx

        return onnx.printer.to_text(artifact.model_proto)

    def operators(self, artifact: Any) -> list[str]:
        return sorted({_op_name(node) for node in artifact.model_proto.graph.node})

    def facts(self, artifact: Any) -> Dict[str, Any]:
        from converter.exporters.graph_facts import onnx_facts

        return onnx_facts(artifact.model_proto)


def _graph_input_names(request: ExportRequest) -> Optional[list]:
    """The graph's inputs named after the config's (constants are baked in); torch.onnx's own
    names where an input is a list of tensors (one graph input per element)."""
    values = [*request.example_inputs, *request.example_kwargs.values()]
    if any(isinstance(v, (list, tuple)) for v in values):
        return None
    return [n for n in request.input_names if n not in request.constant_inputs] or None


def _op_name(node: Any) -> str:
    return f"{node.domain or 'ai.onnx'}::{node.op_type}"


def _session_options(threads: int, level: str) -> Any:
    import onnxruntime as ort

    settings = ort.SessionOptions()
    settings.intra_op_num_threads = threads
    # ONNX Runtime's pool threads spin after each run by default, burning cores the rest of the
    # process needs (a server's pre- and post-processing; eager, benchmarked beside it: resnet18's
    # eager read 2.2x slower on 2 cores). Off, ORT's own resnet18 p50 moves only 8.5 -> 8.8 ms.
    for key in ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning"):
        settings.add_session_config_entry(key, "0")
    settings.graph_optimization_level = {
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    return settings


class OnnxRuntimeModule:
    """An ONNX Runtime session called like the eager module: tensors in, the eager structure out."""

    def __init__(self, path: Path, device: str, threads: Optional[int]) -> None:
        """One session on the default settings; a second only when the file asks for others (its
        metadata is read from the session, so the model is parsed once on the usual path)."""
        import onnxruntime as ort
        import torch
        import torch.utils._pytree as pytree

        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        wanted = {"threads": int(threads or torch.get_num_threads()), "level": "all"}
        self.session = ort.InferenceSession(str(path), _session_options(**wanted), providers=providers)
        metadata = self.session.get_modelmeta().custom_metadata_map
        stored = {
            "threads": int(metadata.get(THREADS_KEY) or wanted["threads"]),
            "level": metadata.get(LEVEL_KEY, "all"),
        }
        if stored != wanted:
            self.session = ort.InferenceSession(str(path), _session_options(**stored), providers=providers)
        self.threads = stored["threads"]
        self.providers = self.session.get_providers()
        self.input_names = [i.name for i in self.session.get_inputs()]
        spec = metadata.get(OUT_SPEC_KEY)
        self.out_spec = pytree.treespec_loads(spec) if spec else None
        self.device = device

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Called as eager is: the graph's inputs are the call's tensors in order (a list of
        tensors is several inputs); constants were baked into the graph at export."""
        import torch
        import torch.utils._pytree as pytree

        tensors = [leaf for leaf in pytree.tree_leaves((args, kwargs)) if isinstance(leaf, torch.Tensor)]
        feeds = {name: value.detach().cpu().numpy() for name, value in zip(self.input_names, tensors, strict=False)}
        outputs = [torch.from_numpy(array).to(self.device) for array in self.session.run(None, feeds)]
        if self.out_spec is None:
            return outputs[0] if len(outputs) == 1 else tuple(outputs)
        return pytree.tree_unflatten(outputs, self.out_spec)
