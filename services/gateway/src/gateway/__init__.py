"""Gateway: authentication, the REST API with OpenAPI, web pages and the debtor portal."""
