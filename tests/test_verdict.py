"""converter.diagnosis.verdict: what a diagnosis adds to result.json's failure."""

from __future__ import annotations

from converter.diagnosis.location import Location
from converter.diagnosis.verdict import Diagnosis
from converter.errors import Failure


def test_a_diagnosis_adds_its_fields_to_the_failure_and_they_read_back() -> None:
    where = Location("registry/yolo.py", 12, "x[0] = 1")
    diagnosis = Diagnosis("input_mutation", "clone first", ["+model.patches=[...]"], where)
    fields = diagnosis.to_fields()
    assert fields == {
        "category": "input_mutation",
        "hint": "clone first",
        "fix_overrides": ["+model.patches=[...]"],
        "location": {"file": "registry/yolo.py", "line": 12, "source": "x[0] = 1"},
    }
    failure = Failure("export", "E", "m", "tb").diagnosed(fields)
    assert Failure.from_dict(dict(failure.__dict__)) == failure
    assert Diagnosis("unknown", "").to_fields()["location"] is None
