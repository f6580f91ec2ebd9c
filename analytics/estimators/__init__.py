"""Pure statistical models of customer value (no Django, no database): numpy arrays in, arrays out."""
