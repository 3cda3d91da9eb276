"""converter.diagnosis.divergence: the first submodule whose output leaves eager's is named."""

from __future__ import annotations

from pathlib import Path

import torch

from converter.config.schema import InputConfig
from converter.diagnosis.divergence import first_divergence


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = torch.nn.Linear(4, 4)
        self.second = torch.nn.Linear(4, 4)
        self.third = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.third(torch.relu(self.second(torch.relu(self.first(x)))))


def test_the_first_module_out_of_tolerance_is_named_not_the_ones_after_it(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = Net().eval()
    inputs = {"x": torch.randn(2, 4)}
    torch.export.save(torch.export.export(net, (inputs["x"],)), tmp_path / "model.pt2")
    specs = {"x": InputConfig(shape=[2, 4])}
    assert first_divergence(net, tmp_path / "model.pt2", inputs, 1e-5, 1e-5, specs) is None
    with torch.no_grad():
        net.second.weight.add_(0.5)  # eager now differs from the saved program from `second` on
    found = first_divergence(net, tmp_path / "model.pt2", inputs, 1e-5, 1e-5, specs)
    assert (found["module"], found["class"], Path(found["file"]).name) == ("second", "Linear", "linear.py")
    assert found["max_abs_error"] > 1e-3 and -1 <= found["cosine_similarity"] <= 1


def test_a_program_that_cannot_be_unflattened_is_not_localized(tmp_path: Path) -> None:
    (tmp_path / "model.pt2").write_bytes(b"not a program")
    specs = {"x": InputConfig(shape=[2, 4])}
    assert first_divergence(Net(), tmp_path / "model.pt2", {"x": torch.randn(2, 4)}, 1e-5, 1e-5, specs) is None
