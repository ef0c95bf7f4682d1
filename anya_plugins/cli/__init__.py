"""``anya-ext``: a thin shell that parses, calls one library function and renders the result."""
