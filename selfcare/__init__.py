"""The customer self-care portal: its own sign-in, every query scoped to the signed-in customer."""
