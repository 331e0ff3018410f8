"""The gateway's REST shapes, one module per resource: what routes answer and what the typed
clients of the backing services return, so both speak the gateway's types, never protobuf."""
