"""workbook-engine: an MFI's field operations through Excel workbooks."""

__version__ = "0.1.0"
