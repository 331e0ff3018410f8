"""`python -m settlement.sandbox`: serve the local Bridge sandbox (development and tests only)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from settlement.config import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_URL,
    SANDBOX_WEBHOOK_SECRET,
)
from settlement.sandbox.bridge_sandbox import SandboxConfig, sandbox_app


def main() -> None:
    """Parse the options (environment variables give the defaults) and serve."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Local sandbox of Bridge's payment links")
    parser.add_argument("--host", default=env("RECOUVRA_BRIDGE_SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(env("RECOUVRA_BRIDGE_SANDBOX_PORT", SANDBOX_URL[-5:]))
    )
    parser.add_argument(
        "--webhook-url",
        default=env("RECOUVRA_BRIDGE_SANDBOX_WEBHOOK_URL", "http://127.0.0.1:8056/webhooks/bridge"),
    )
    parser.add_argument(
        "--webhook-secret",
        default=env("RECOUVRA_BRIDGE_SANDBOX_WEBHOOK_SECRET", SANDBOX_WEBHOOK_SECRET),
    )
    parser.add_argument("--client-id", default=SANDBOX_CLIENT_ID)
    parser.add_argument("--client-secret", default=SANDBOX_CLIENT_SECRET)
    options = parser.parse_args()
    app = sandbox_app(
        SandboxConfig(
            client_id=options.client_id,
            client_secret=options.client_secret,
            webhook_url=options.webhook_url,
            webhook_secret=options.webhook_secret,
            public_url=f"http://{options.host}:{options.port}",
        )
    )
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
