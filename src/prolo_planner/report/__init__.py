"""The session going out to the chart: annotated PNG/JPEG images, the PDF report, DICOM exports."""
