"""What a diagnosis says about one failure: its category, a paragraph of hint, the overrides that
fix it and where in the model's code it happened (the rules in categories.py and input_checks.py
each return one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from converter.diagnosis.location import Location


@dataclass(frozen=True)
class Diagnosis:
    category: str
    hint: str
    fix_overrides: List[str] = field(default_factory=list)
    location: Optional[Location] = None

    def to_fields(self) -> Dict[str, Any]:
        """The keys this adds to result.json's `failure`."""
        fields = asdict(self)
        fields["location"] = self.location.to_dict() if self.location else None
        return fields
