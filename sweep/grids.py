"""Parsing of command-line value lists, ranges and key=value assignments.

Syntax (shared by every command):

* list: ``0,1,2``
* range: ``start:stop:num`` -> ``num`` points linearly spaced from start to stop (inclusive);
  ``start:stop:num:log`` -> logarithmically spaced (start, stop > 0);
* assignments: ``L_sym=60,K_sym=-100``.

Every error is a one-line ``ValueError`` naming the option, the value and the allowed form.
"""

from __future__ import annotations

import numpy as np


def parse_float_list(option: str, text: str) -> np.ndarray:
    """``"0,1,2"`` -> array([0., 1., 2.]); a range (with ':') is also accepted."""
    text = text.strip()
    if ":" in text:
        return parse_range(option, text)
    parts = [p.strip() for p in text.split(",")]
    if not text or any(p == "" for p in parts):
        raise ValueError(f"{option}={text!r}: expected a comma-separated list of numbers, e.g. 0,1,2")
    try:
        values = np.array([float(p) for p in parts])
    except ValueError:
        raise ValueError(f"{option}={text!r}: expected a comma-separated list of numbers, e.g. 0,1,2") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{option}={text!r}: values must be finite numbers")
    return values


def parse_range(option: str, text: str) -> np.ndarray:
    """``"start:stop:num"`` (linear) or ``"start:stop:num:log"`` (logarithmic) -> array."""
    form = f"{option}={text!r}: expected start:stop:num or start:stop:num:log (e.g. 0.001:0.3:50)"
    parts = [p.strip() for p in text.strip().split(":")]
    spacing = "linear"
    if len(parts) == 4:
        if parts[3].lower() != "log":
            raise ValueError(form)
        spacing = "log"
        parts = parts[:3]
    if len(parts) != 3:
        raise ValueError(form)
    try:
        start, stop = float(parts[0]), float(parts[1])
        num = int(parts[2])
    except ValueError:
        raise ValueError(form) from None
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise ValueError(form)
    if num < 1:
        raise ValueError(f"{option}={text!r}: num={num} must be >= 1")
    if num > 1 and stop <= start:
        raise ValueError(f"{option}={text!r}: stop={stop:g} must be > start={start:g}")
    if spacing == "log":
        if start <= 0:
            raise ValueError(f"{option}={text!r}: a log range needs start > 0")
        return np.geomspace(start, stop, num)
    return np.linspace(start, stop, num)


def parse_assignments(option: str, text: str | list[str] | None) -> dict[str, float]:
    """``"L_sym=60,K_sym=-100"`` (or a list of such strings) -> {"L_sym": 60.0, "K_sym": -100.0}."""
    if text is None:
        return {}
    items = text if isinstance(text, list) else [text]
    out: dict[str, float] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ValueError(f"{option}={part!r}: expected key=value, e.g. L_sym=60")
            key, value = (s.strip() for s in part.split("=", 1))
            try:
                out[key] = float(value)
            except ValueError:
                raise ValueError(f"{option}: {key}={value!r} is not a number") from None
            if not np.isfinite(out[key]):
                raise ValueError(f"{option}: {key}={value!r} must be finite")
    return out
