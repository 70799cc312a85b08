"""Prolo Planner: ultrasound-guided prolotherapy planning workstation."""

__version__ = "0.1.0"
