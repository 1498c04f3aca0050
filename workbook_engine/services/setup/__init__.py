"""The institution: offices, staff, products and the rest of set-up, init and the demo."""
