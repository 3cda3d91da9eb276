"""AOTInductor (`.pt2` package): the torch.export program compiled ahead of time to native code.

`torch._inductor.aoti_compile_and_package` compiles the ExportedProgram (same strict/auto
handling as export=torch_export) into a package that `aoti_load_package` runs without Python
tracing. With `freezing` (the default here) Inductor folds the weights into the compiled
graph, which is what makes CPU inference faster than eager. Loading and every call happen in
the job's isolated child: a package that crashes on load costs that job only.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from converter.config.backend_options import AotiOptions
from converter.exporters.base import ExportRequest
from converter.exporters.inductor_private import conv_weights_packed_at_size_hints
from converter.exporters.torch_export import TorchExportExporter, TorchExportOptions


@dataclass
class AotiArtifact:
    program: Any  # the ExportedProgram that was compiled
    package: Path  # the compiled package, in a scratch folder until saved
    compile_s: float


class AotiExporter:
    name = "aoti"
    suffix = ".pt2"
    Options = AotiOptions
    # Inductor compiles the generated C++ with the system compiler.
    tools = ("g++",)

    def export(self, request: ExportRequest) -> AotiArtifact:
        import torch

        export_options = TorchExportOptions(no_grad=request.options.no_grad, draft_report=False)
        program = TorchExportExporter().export(dataclasses.replace(request, options=export_options))
        configs = {
            "freezing": request.options.freezing,
            "max_autotune": request.options.max_autotune,
            **dict(request.options.inductor_configs or {}),
        }
        recorded = dict(configs)  # inductor adds its own keys to the dict it is given
        scratch = Path(tempfile.mkdtemp(prefix="converter-aoti-"))
        started = time.perf_counter()
        # oneDNN's weight packing is a CPU pass: a CUDA compile has nothing to pack.
        inputs = (*request.example_inputs, *request.example_kwargs.values())
        on_cpu = all(t.device.type == "cpu" for t in inputs if isinstance(t, torch.Tensor))
        packing = conv_weights_packed_at_size_hints() if request.options.pack_conv_weights and on_cpu else nullcontext()
        try:
            with torch.no_grad(), packing as packed:
                package = torch._inductor.aoti_compile_and_package(
                    program, package_path=str(scratch / "model.pt2"), inductor_configs=configs
                )
        except BaseException:  # a failed compile leaves no scratch folder behind (save removes it otherwise)
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        compile_s = time.perf_counter() - started
        request.notes["compile_s"] = round(compile_s, 3)
        request.notes["inductor_configs"] = recorded
        request.notes["conv_weights_packed_at_size_hints"] = packed.at_size_hints if packed else 0
        if packed and packed.unavailable:
            request.notes["conv_weights_not_packed"] = packed.unavailable
        return AotiArtifact(program, Path(package), compile_s)

    def save(self, artifact: AotiArtifact, path: Path) -> None:
        shutil.copyfile(artifact.package, path)
        shutil.rmtree(artifact.package.parent, ignore_errors=True)

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        import torch

        return torch._inductor.aoti_load_package(str(path))

    def graph_code(self, artifact: AotiArtifact) -> str:
        return artifact.program.graph_module.code

    def operators(self, artifact: AotiArtifact) -> list[str]:
        return TorchExportExporter().operators(artifact.program)

    def facts(self, artifact: AotiArtifact) -> Dict[str, Any]:
        from converter.exporters.graph_facts import exported_program_facts

        return exported_program_facts(artifact.program)
