"""HTML views of the customer record, one module per topic."""
