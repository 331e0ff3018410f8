"""HTML pages go here: server-rendered views for people (creditors, providers, debtors), beside
the REST API of `entrypoints/api/`. They use the same `deps`, typed clients and schemas as the
API's routes, and, like them, never import one another."""
