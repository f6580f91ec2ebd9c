"""REST API of the customer record (/api/v1/...)."""
