"""Verification: theory against simulation (`agreement`) and, once discovery lands, expressions against laws.

The test modules in this folder (`pytest verify`) are the scientific regression suite.
"""

from verify.agreement import Agreement, agreement, fit_order

__all__ = ["Agreement", "agreement", "fit_order"]
