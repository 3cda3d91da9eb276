"""A benchmark runs end to end on a toy model and writes what it promises; no speed is asserted."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from converter.benchmark.resources import measured_peak_gflops

QUICK = ["benchmark=default", "benchmark.min_time_s=0.05", "benchmark.min_iterations=3", "benchmark.max_extra_rounds=0"]


def test_benchmark_writes_json_table_and_chart(run_cli) -> None:
    run = run_cli("+model=classification", "export=torchscript_trace", *QUICK, "benchmark.batch_sizes=[1,4]")
    assert run.returncode == 0, run.stderr[-2000:]
    result = run.result()
    run_dir = Path(result["artifact"]["path"]).parent
    bench = json.loads((run_dir / "bench.json").read_text())
    assert [case["sizes"]["batch"] for case in bench["cases"]] == [1, 4]
    for case in bench["cases"]:
        assert set(case["latency_s"]) == {"eager", "artifact"}
        for stats in case["latency_s"].values():
            assert stats["n"] >= 3 and stats["min"] <= stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["max"]
        assert case["flops_per_call"] == 2 * case["sizes"]["batch"] * 320 * (320 * 160 + 160 * 2)
        assert case["achieved_gflops"]["artifact"] > 0 and 0 < case["fraction_of_peak"]["artifact"]
        assert case["speedup"]["low"] <= case["speedup"]["ratio"] <= case["speedup"]["high"]
        assert set(case["median_precision"]) == {"eager", "artifact"} and case["extra_rounds"] == 0
        # the first Linear's output alone is batch x 320 x 160 float32
        assert case["peak_memory_mb"]["eager"] >= case["sizes"]["batch"] * 320 * 160 * 4 / 2**20
        assert case["peak_memory_mb"]["artifact"] > 0
    assert bench["threads"] >= 1 and bench["machine_peak"]["gflops"] > 0
    assert bench["cold_start"]["load_s"] > 0 and bench["cold_start"]["process_s"] > bench["cold_start"]["load_s"]
    assert bench["artifact_size_bytes"] == result["artifact"]["size_bytes"]
    chart = ET.fromstring((run_dir / "bench.svg").read_text())
    bars = [r for r in chart.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]
    assert [(b.get("data-who"), b.get("data-sizes")) for b in bars] == [
        (who, f"batch={c['sizes']['batch']}") for c in bench["cases"] for who in ("eager", "artifact")
    ]
    assert "speedup [CI]" in run.stdout + (run_dir / "convert.log").read_text()
    assert result["benchmark"]["speedup"] == bench["cases"][0]["speedup"]["ratio"]
    assert "benchmark" in result["stages"]


def test_batch_sizes_outside_the_dim_are_a_config_error(run_cli) -> None:
    run = run_cli("+model=classification", "benchmark.batch_sizes=[64]")
    assert run.returncode == 2
    assert "Config error at 'benchmark.batch_sizes'" in run.stderr and not (run.cwd / "outputs").exists()


def test_threads_are_set_for_the_measurement_and_recorded(run_cli) -> None:
    run = run_cli("+model=classification", *QUICK, "benchmark.threads=1", "benchmark.cold_start=false")
    assert run.returncode == 0, run.stderr[-2000:]
    bench = json.loads((Path(run.result()["artifact"]["path"]).parent / "bench.json").read_text())
    assert bench["threads"] == 1 and bench["cold_start"] is None


def test_machine_peak_is_measured_once_then_cached(tmp_path, monkeypatch) -> None:
    import converter.benchmark.resources as resources

    monkeypatch.setattr(resources, "CACHE", tmp_path / "peak.json")
    first = measured_peak_gflops("cpu", 1, size=128, seconds=0.05, repeats=2)
    again = measured_peak_gflops("cpu", 1, size=128, seconds=0.05, repeats=2)
    assert first["cached"] is False and again["cached"] is True and again["gflops"] == first["gflops"] > 0
    # The faster of torch's two float32 GEMM paths counts, and the entry says which.
    assert set(first["by_path"]) == {"BLAS matmul", "oneDNN linear"}
    assert first["gflops"] == max(first["by_path"].values()) == first["by_path"][first["path"]]


def test_machine_peak_measured_by_an_older_method_is_measured_again(tmp_path, monkeypatch) -> None:
    import converter.benchmark.resources as resources

    monkeypatch.setattr(resources, "CACHE", tmp_path / "peak.json")
    old_key = resources._machine_key("cpu", 1)  # an entry from before both GEMM paths were timed
    (tmp_path / "peak.json").write_text(json.dumps({old_key: {"gflops": 1.0, "matmul_size": 128, "dtype": "float32"}}))
    fresh = measured_peak_gflops("cpu", 1, size=128, seconds=0.05, repeats=2)
    assert fresh["cached"] is False and fresh["path"] in fresh["by_path"]


def test_onednn_linear_computes_the_same_product_as_matmul() -> None:
    import torch

    from converter.benchmark.resources import _onednn_linear

    a, b = torch.rand(64, 48), torch.rand(48, 32)
    call = _onednn_linear(a, b)
    assert call is not None
    torch.testing.assert_close(call().to_dense(), a @ b, rtol=1e-5, atol=1e-4)
