"""Exports of a plan to the chart and the PACS: DICOM SC, SR and presentation states, de-identified
copies. No Qt here: images with annotations burned in come from render/ as plain arrays."""
