"""Records (台账) as xlsx: meeting attendance, study participation and notice receipts."""
