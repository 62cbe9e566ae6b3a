"""The request pipeline: routes, negotiation, body reading, middleware, errors, dependencies."""
