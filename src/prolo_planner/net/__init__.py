"""DICOM networking: echo, send (with a queue), query and retrieve, and a receiving node."""
