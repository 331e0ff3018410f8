"""Settlement's edges: gRPC servicers, Kafka handlers and background loops, turning messages into
commands."""
