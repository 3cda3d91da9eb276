"""benchmarks/fleet/run.py's report: outcomes read from the job folders, a verified fix counted as
converted with the diagnosed fix, a follow-up job never mistaken for the model's own outcome."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.fleet.run import combined, render


def write(job_dir: Path, model: str, status: str, **failure) -> None:
    job_dir.mkdir(parents=True)
    record = {"model": model, "backend": "torch_export", "strict": "auto", "device": "cpu", "status": status}
    record.update(stages={"load": 1.0}, process={"isolated": True, "seconds": 2.0})
    if failure:
        record["failure"] = {"stage": "load", "type": "x.Error", "message": "boom", **failure}
    (job_dir / "result.json").write_text(json.dumps(record))


def test_pass_rates_count_verified_fixes_and_ignore_follow_up_folders(tmp_path: Path) -> None:
    sweep = tmp_path / "run" / "sweep"
    write(sweep / "0-hf_bert-torch_export", "hf_bert", "ok")
    fix = {"verified": "passed", "overrides": ["++model.loader.config.pad_token_id=0"]}
    write(sweep / "1-hf_phi3-torch_export", "hf_phi3", "failed", category="loader_rejected", fix=fix)
    write(sweep / "fix1-1-hf_phi3-torch_export", "hf_phi3", "ok")
    write(
        sweep / "2-timm_vgg11-torch_export",
        "timm_vgg11",
        "failed",
        category="data_dependent",
        fix={"verified": "failed", "overrides": ["export=torchscript_script"]},
    )
    outcomes, wall = combined([tmp_path / "run"])
    assert wall == 6.0
    by_name = {o.name: o for o in outcomes}
    assert (by_name["hf_phi3"].status, by_name["hf_phi3"].fixed) == ("failed", True)
    assert by_name["hf_phi3"].fixed_by == ["++model.loader.config.pad_token_id=0"]
    assert render(outcomes, wall) == "\n".join(
        [
            "| library | models | converted as written | converted with the diagnosed fix | pass rate |",
            "|---|---|---|---|---|",
            "| transformers | 2 | 1 | 1 | 100% |",
            "| timm | 1 | 0 | 0 | 0% |",
            "",
            "Failures as written, by category: 1 loader_rejected, 1 data_dependent. Wall time 0.1 min.",
        ]
    )
