"""The PACS as the clinic's shared record: finding a patient's plans on a node (DIMSE or
DICOMweb) and pulling them into the store as that patient's sessions (docs/adr/0005)."""
