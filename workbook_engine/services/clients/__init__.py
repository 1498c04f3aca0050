"""Client records and their lifecycle: clients, family, addresses, documents, additional details, pages and listings."""
