"""HTML views of the project package (staff shell, accounts, operations)."""
