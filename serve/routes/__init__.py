"""HTTP routes, one module per resource; handlers validate, call the engine, return."""
