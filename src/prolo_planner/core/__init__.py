"""The Qt-free core: geometry, calibration, display arithmetic (and later plans and safety)."""
