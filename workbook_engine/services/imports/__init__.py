"""Workbook imports: clients, set-up and migration workbooks, and the sheet of excluded rows."""
