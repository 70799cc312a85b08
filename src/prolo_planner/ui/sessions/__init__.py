"""Sessions in the window: patients, their timeline, autosave, compare and carry forward."""
