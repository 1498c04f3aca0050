"""A returned workbook's way through the engine: intake claims, processing, submissions and approval, the approval queue."""
