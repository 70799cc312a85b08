"""The Qt layer: thin widgets over the core and image sources."""
