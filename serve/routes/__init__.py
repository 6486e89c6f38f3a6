"""HTTP routes, one module per resource; a handler validates, calls one method of the service, returns."""
