"""Export and PACS windows: export dialog, DICOM nodes, send queue, query/retrieve, receiver."""
