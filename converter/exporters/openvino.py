"""OpenVINO IR (`model.xml` + `model.bin` in a `.openvino` folder) from the torch.export program,
run with OpenVINO's CPU plugin.

What a default conversion gets wrong, and what this target does instead (OpenVINO 2026.4):
- `openvino.convert_model(ExportedProgram)` keeps every input dimension dynamic, also those the
  program specialised; the IR is reshaped so exactly the program's symbolic dims stay dynamic.
- The CPU plugin defaults to bf16 inference on CPUs with AVX512_BF16 (2.4e-2 max error against eager
  on resnet18): `INFERENCE_PRECISION_HINT` is f32 unless `precision` asks for less.
- `openvino.save_model` compresses weights to fp16 by default (2e-3): off unless `compress_weights`.
The IR flattens outputs, so the program's output tree spec is kept beside it (converter.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from converter.config.backend_options import OPENVINO_PRECISIONS, OpenVinoOptions
from converter.exporters.base import ExportRequest
from converter.records.results import PRECISION_NOTE

PRECISIONS = OPENVINO_PRECISIONS

XML, SIDECAR = "model.xml", "converter.json"


@dataclass
class OpenVinoArtifact:
    model: Any
    out_spec: Optional[str]
    precision: str
    compress_weights: bool


class OpenVinoExporter:
    name = "openvino"
    suffix = ".openvino"
    Options = OpenVinoOptions
    requires = ("openvino",)
    # OpenVINO allocates outside torch: the profiler cannot see its memory.
    memory_visible = False
    extra = "openvino"

    def export(self, request: ExportRequest) -> Any:
        import openvino
        import torch.utils._pytree as pytree

        from converter.exporters.torch_export import TorchExportExporter, TorchExportOptions

        options = request.options
        program_options = TorchExportOptions(options.run_decompositions, options.no_grad, draft_report=False)
        program = TorchExportExporter().export(replace(request, options=program_options))
        model = openvino.convert_model(program)
        model.reshape(_program_shapes(program, len(model.inputs)))
        request.notes[PRECISION_NOTE] = options.precision
        return OpenVinoArtifact(
            model, pytree.treespec_dumps(program.call_spec.out_spec), options.precision, options.compress_weights
        )

    def save(self, artifact: Any, path: Path) -> None:
        import openvino

        path.mkdir(parents=True)
        openvino.save_model(artifact.model, str(path / XML), compress_to_fp16=artifact.compress_weights)
        sidecar = {"out_spec": artifact.out_spec, "precision": artifact.precision}
        (path / SIDECAR).write_text(json.dumps(sidecar))

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        return OpenVinoModule(path, threads)

    def graph_code(self, artifact: Any) -> str:
        lines = []
        for op in artifact.model.get_ordered_ops():
            inputs = ", ".join(i.get_source_output().get_node().get_friendly_name() for i in op.inputs())
            lines.append(
                f"{op.get_friendly_name()} = {op.get_type_name()}({inputs})  # {op.get_output_partial_shape(0) if op.get_output_size() else ''}"
            )
        return "\n".join(lines) + "\n"

    def operators(self, artifact: Any) -> List[str]:
        return sorted({_op_name(op) for op in artifact.model.get_ordered_ops()})

    def facts(self, artifact: Any) -> Dict[str, Any]:
        from converter.exporters.graph_facts import openvino_facts

        return openvino_facts(artifact.model)

    @staticmethod
    def reduced_precision(options: Any) -> Optional[str]:
        """The torch dtype the CPU plugin computes at, when below float32 (validation's yardstick)."""
        return PRECISIONS[options.precision]


def _op_name(op: Any) -> str:
    kind = op.get_type_info()
    return f"{kind.version_id}::{kind.name}"


def _program_shapes(program: Any, count: int) -> Dict[int, Any]:
    """Each graph input's shape as the program has it: its symbolic dims dynamic (-1), the rest fixed."""
    import openvino
    import torch

    shapes: Dict[int, Any] = {}
    user_inputs = [
        node
        for node in program.graph.nodes
        if node.op == "placeholder" and node.name in program.graph_signature.user_inputs
    ]
    tensors = [node.meta["val"] for node in user_inputs if isinstance(node.meta.get("val"), torch.Tensor)]
    for index, value in enumerate(tensors[:count]):
        dims = [-1 if not isinstance(size, int) else size for size in value.shape]
        shapes[index] = openvino.PartialShape([openvino.Dimension(d) if d >= 0 else openvino.Dimension() for d in dims])
    return shapes


class OpenVinoModule:
    """A compiled OpenVINO model called like the eager module: tensors in, the eager structure out."""

    def __init__(self, path: Path, threads: Optional[int]) -> None:
        import openvino
        import torch
        import torch.utils._pytree as pytree

        sidecar = json.loads((path / SIDECAR).read_text())
        core = openvino.Core()
        self.threads = int(threads or torch.get_num_threads())
        config = {
            "INFERENCE_PRECISION_HINT": sidecar["precision"],
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": self.threads,
        }
        self.compiled = core.compile_model(core.read_model(str(path / XML)), "CPU", config)
        self.request = self.compiled.create_infer_request()
        self.out_spec = pytree.treespec_loads(sidecar["out_spec"]) if sidecar.get("out_spec") else None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch
        import torch.utils._pytree as pytree

        tensors = [leaf for leaf in pytree.tree_leaves((args, kwargs)) if isinstance(leaf, torch.Tensor)]
        results = self.request.infer([t.detach().cpu().numpy() for t in tensors], share_inputs=False)
        outputs = [torch.from_numpy(results[output].copy()) for output in self.compiled.outputs]
        if self.out_spec is None:
            return outputs[0] if len(outputs) == 1 else tuple(outputs)
        return pytree.tree_unflatten(outputs, self.out_spec)
