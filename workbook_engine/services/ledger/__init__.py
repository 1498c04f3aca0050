"""The books: loans, savings, charges, cash handed over, and the integrity check."""
