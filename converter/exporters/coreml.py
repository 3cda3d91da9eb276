"""Core ML (`.mlpackage`, or `.mlmodel` for neuralnetwork) with coremltools (`ct.convert`).

The source is the torch.export program (default) or a TorchScript trace or script
(`export.options.source`). Inputs are `TensorType`s whose dynamic Dims become `RangeDim`s, or
`ImageType`s with scale and bias where `export.options.inputs` says so (Apple's DeepLabV3 example
from WWDC 2020 session 10153, "Get models on device using Core ML Converters").
`export.options.metadata` becomes the model's user-defined metadata (that example's segmentation
labels for Xcode's preview). Core ML runs only on macOS: elsewhere the converted package is
the result and validation reports `skipped`, never a pass.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from converter.config.backend_options import CoreMLOptions
from converter.exporters.base import ExportRequest


class CoreMLExporter:
    name = "coreml"
    suffix = ".mlpackage"
    Options = CoreMLOptions
    requires = ("coremltools",)

    @staticmethod
    def suffix_for(options: CoreMLOptions) -> str:
        return ".mlpackage" if options.convert_to == "mlprogram" else ".mlmodel"

    @staticmethod
    def runtime_unavailable() -> Optional[str]:
        """Why the artifact cannot run here (None on macOS, where Core ML predicts)."""
        return None if sys.platform == "darwin" else "Core ML runtime needs macOS"

    def export(self, request: ExportRequest) -> Any:
        import coremltools as ct
        import torch

        options = request.options
        source = self._source(request)
        kwargs: Dict[str, Any] = {"convert_to": options.convert_to}
        if options.source != "torch_export" or options.inputs:
            kwargs["inputs"] = self._inputs(request)
        if options.minimum_deployment_target:
            kwargs["minimum_deployment_target"] = getattr(ct.target, options.minimum_deployment_target)
        if options.compute_precision and options.convert_to == "mlprogram":
            kwargs["compute_precision"] = getattr(ct.precision, options.compute_precision.upper())
        with torch.no_grad():
            model = ct.convert(source, **kwargs)
        for key, value in options.metadata.items():
            model.user_defined_metadata[str(key)] = value if isinstance(value, str) else json.dumps(value)
        model.user_defined_metadata["converter.tensors.inputs"] = json.dumps(list(request.input_names))
        return model

    def _source(self, request: ExportRequest) -> Any:
        import dataclasses

        if request.options.source in ("trace", "script"):  # as those backends do, the hybrid included
            from converter.exporters import get_exporter
            from converter.exporters.torchscript_script import ScriptOptions
            from converter.exporters.torchscript_trace import TraceOptions

            name, options = (
                ("torchscript_trace", TraceOptions())
                if request.options.source == "trace"
                else ("torchscript_script", ScriptOptions())
            )
            module = get_exporter(name).export(dataclasses.replace(request, options=options))
            # coremltools' TorchScript frontend cannot read a module's attributes (a loop bounded by
            # `self.steps` fails: "Binding steps is neither a name of exisitng var in context"):
            # freezing inlines attributes and weights as constants, which it reads.
            import torch

            return torch.jit.freeze(module.eval())
        from converter.exporters.torch_export import TorchExportExporter, TorchExportOptions

        program = TorchExportExporter().export(
            dataclasses.replace(request, options=TorchExportOptions(draft_report=False))
        )
        return program.run_decompositions({})

    def _inputs(self, request: ExportRequest) -> List[Any]:
        import coremltools as ct

        specs = []
        for position, (name, example) in enumerate(zip(request.input_names, request.example_inputs, strict=True)):
            dims = (request.dynamic_shapes or [None] * len(request.example_inputs))[position] or {}
            shape = ct.Shape(
                tuple(
                    ct.RangeDim(lower_bound=dims[i].min, upper_bound=dims[i].max, default=int(size))
                    if i in dims
                    else int(size)
                    for i, size in enumerate(example.shape)
                )
            )
            spec = dict(request.options.inputs.get(name) or {})
            if spec.get("type") == "image":
                bias = spec.get("bias", 0.0)
                specs.append(
                    ct.ImageType(
                        name=name,
                        shape=shape,
                        scale=float(spec.get("scale", 1.0)),
                        bias=list(bias) if isinstance(bias, (list, tuple)) else float(bias),
                        color_layout=getattr(ct.colorlayout, spec.get("color_layout", "RGB")),
                    )
                )
            else:
                specs.append(ct.TensorType(name=name, shape=shape, dtype=_numpy_dtype(example)))
        return specs

    def save(self, artifact: Any, path: Path) -> None:
        artifact.save(str(path))

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        reason = self.runtime_unavailable()
        if reason:
            raise RuntimeError(f"cannot load {path}: {reason}")
        return CoreMLModule(path)

    def graph_code(self, artifact: Any) -> str:
        spec = artifact.get_spec()
        if spec.WhichOneof("Type") == "mlProgram":
            return str(artifact._mil_program) if getattr(artifact, "_mil_program", None) else str(spec.mlProgram)
        return str(spec.neuralNetwork)

    def operators(self, artifact: Any) -> list[str]:
        return sorted(self.facts(artifact)["operators"])

    def facts(self, artifact: Any) -> Dict[str, Any]:
        from converter.exporters.graph_facts import coreml_facts

        return coreml_facts(artifact)


def _numpy_dtype(tensor: Any) -> Any:
    import numpy as np

    return {"torch.float32": np.float32, "torch.float16": np.float16, "torch.int32": np.int32}.get(
        str(tensor.dtype), np.float32 if tensor.is_floating_point() else np.int32
    )


class CoreMLModule:
    """An MLModel called like the eager module (macOS only): tensors in, a tuple of tensors out."""

    def __init__(self, path: Path) -> None:
        import coremltools as ct

        self.model = ct.models.MLModel(str(path))
        self.input_names = json.loads(self.model.user_defined_metadata.get("converter.tensors.inputs", "[]"))
        self.output_names = [o.name for o in self.model.get_spec().description.output]

    def __call__(self, *args: Any) -> Any:
        import torch

        feeds = {name: value.detach().cpu().numpy() for name, value in zip(self.input_names, args, strict=False)}
        answer = self.model.predict(feeds)
        outputs = [torch.from_numpy(answer[name]) for name in self.output_names]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
