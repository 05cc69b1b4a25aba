"""The local gateway's mapping templates: petgate/vtl.py (moved there so that `explain` renders
gateway responses with the same code without importing petgate.local)."""

from petgate.vtl import InputVariable, UtilVariable, _cache, render

__all__ = ["InputVariable", "UtilVariable", "_cache", "render"]
