"""The services' Kafka rights and topics, applied by the admin: at deploy and for each test run.

    python -m recouvra_shared.kafka_access provision deploy/kafka-access.json [--prefix P]

The catalogue (deploy/kafka-access.json, generated from the services' wiring) names each
service user's ACLs in Strimzi's vocabulary and the topics each service uses. Provisioning
creates those ACLs, with every resource name behind the topic prefix, and the topics; it runs
as the admin (RECOUVRA_KAFKA_* variables, see `deploy/local/stack.sh env`) and may run again.
Services themselves never create topics: that right is the admin's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    CreateAclsResponse_v1,
    DeleteAclsRequest_v1,
    DeleteAclsResponse_v1,
)
from aiokafka.protocol.api import Request

from recouvra_shared.kafka_security import KafkaConnection

# Kafka's wire codes (org.apache.kafka.common.acl / resource).
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4, "transactionalId": 5}
PATTERN_TYPES = {"literal": 3, "prefix": 4}
OPERATIONS = {
    "All": 2, "Read": 3, "Write": 4, "Create": 5, "Delete": 6, "Alter": 7, "Describe": 8,
    "ClusterAction": 9, "DescribeConfigs": 10, "AlterConfigs": 11, "IdempotentWrite": 12,
}  # fmt: skip
ALLOW = 3
ANY_HOST = "*"


@dataclass(frozen=True)
class AclBinding:
    """One allowed operation of one user on one resource pattern."""

    user: str
    resource_type: str
    name: str
    pattern_type: str
    operation: str

    def wire(self) -> tuple[int, str, int, str, str, int, int]:
        return (
            RESOURCE_TYPES[self.resource_type],
            self.name,
            PATTERN_TYPES[self.pattern_type],
            f"User:{self.user}",
            ANY_HOST,
            OPERATIONS[self.operation],
            ALLOW,
        )


def load_catalogue(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _chosen(catalogue: dict[str, Any], services: Iterable[str] | None) -> list[str]:
    known = list(catalogue["users"])
    wanted = known if services is None else list(services)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"services {unknown} are not in the Kafka catalogue ({known})")
    return wanted


def bindings(
    catalogue: dict[str, Any], prefix: str = "", services: Iterable[str] | None = None
) -> list[AclBinding]:
    """The ACLs of the chosen services' users, every resource name behind `prefix`."""
    return [
        AclBinding(
            service,
            acl["resource"]["type"],
            prefix + acl["resource"]["name"],
            acl["resource"].get("patternType", "literal"),
            operation,
        )
        for service in _chosen(catalogue, services)
        for acl in catalogue["users"][service]
        for operation in acl["operations"]
    ]


def topics(
    catalogue: dict[str, Any], prefix: str = "", services: Iterable[str] | None = None
) -> list[str]:
    """Every topic the chosen services publish, read or dead-letter to, behind `prefix`."""
    chosen = _chosen(catalogue, services)
    return sorted({prefix + t for s in chosen for t in catalogue["topics"][s]})


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # untyped base
    """CreateAcls with many bindings in one request (aiokafka's own sends one)."""

    API_KEY = 30

    def __init__(self, creations: Sequence[AclBinding]) -> None:
        self.creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class([b.wire() for b in self.creations])


class _DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
    """DeleteAcls with one exact filter per binding."""

    API_KEY = 31

    def __init__(self, deletions: Sequence[AclBinding]) -> None:
        self.deletions = deletions

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        return request_struct_class([b.wire() for b in self.deletions])


async def _send(admin: AIOKafkaAdminClient, request: Request[Any]) -> Any:
    # aiokafka's admin client has no ACL calls; its request plumbing negotiates the version.
    return await admin._send_request(request)


async def create_acls(admin: AIOKafkaAdminClient, wanted: Sequence[AclBinding]) -> None:
    """Create the bindings (creating an existing one is a no-op in Kafka)."""
    if not wanted:
        return
    response: CreateAclsResponse_v1 = await _send(admin, _CreateAcls(wanted))
    failed = [
        (binding, for_code(code).__name__, message)
        for binding, (code, message) in zip(wanted, response.creation_responses, strict=True)
        if code
    ]
    if failed:
        raise RuntimeError(f"kafka refused to create ACLs: {failed}")


async def delete_acls(admin: AIOKafkaAdminClient, doomed: Sequence[AclBinding]) -> None:
    """Delete exactly these bindings."""
    if not doomed:
        return
    response: DeleteAclsResponse_v1 = await _send(admin, _DeleteAcls(doomed))
    failed = [(code, message) for code, message, _ in response.filter_responses if code]
    if failed:
        raise RuntimeError(f"kafka refused to delete ACLs: {failed}")


async def create_topics(
    admin: AIOKafkaAdminClient, names: Sequence[str], partitions: int, replication: int
) -> None:
    """Create the topics that do not exist yet."""
    missing = sorted(set(names) - set(await admin.list_topics()))
    if not missing:
        return
    response = await admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
    refused = {
        topic: for_code(code).__name__
        for topic, code, *_ in response.topic_errors
        if code and for_code(code) is not TopicAlreadyExistsError
    }
    if refused:
        raise RuntimeError(f"kafka refused to create topics: {refused}")
    # The controller answers once the topics are committed; the broker's metadata and the
    # partitions' leaders follow a moment later, and a client arriving in between would find
    # the topics missing or leaderless.
    for _ in range(200):
        described = await admin.describe_topics(missing)
        if all(
            not t["error_code"]
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"kafka topics {missing} were created but have no leader yet")


async def provision(
    admin_connection: KafkaConnection,
    catalogue: dict[str, Any],
    prefix: str = "",
    services: Iterable[str] | None = None,
    partitions: int = 3,
    replication: int = 1,
) -> None:
    """Give the chosen services' users their rights and create their topics, behind prefix."""
    chosen = _chosen(catalogue, services)
    admin = AIOKafkaAdminClient(**admin_connection.client_options())
    await admin.start()
    try:
        await create_acls(admin, bindings(catalogue, prefix, chosen))
        await create_topics(admin, topics(catalogue, prefix, chosen), partitions, replication)
    finally:
        await admin.close()


async def revoke(
    admin_connection: KafkaConnection,
    catalogue: dict[str, Any],
    prefix: str,
    services: Iterable[str] | None = None,
) -> None:
    """Remove the rights `provision` gave for this prefix (a finished test run's)."""
    admin = AIOKafkaAdminClient(**admin_connection.client_options())
    await admin.start()
    try:
        await delete_acls(admin, bindings(catalogue, prefix, services))
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=["provision"])
    parser.add_argument("catalogue", type=Path, help="deploy/kafka-access.json")
    parser.add_argument("--prefix", default="", help="topic and group name prefix")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--replication", type=int, default=1)
    args = parser.parse_args(argv)
    catalogue = load_catalogue(args.catalogue)
    asyncio.run(
        provision(
            KafkaConnection.admin_from_environment(),
            catalogue,
            args.prefix,
            partitions=args.partitions,
            replication=args.replication,
        )
    )
    count = len(bindings(catalogue, args.prefix))
    sys.stdout.write(f"{count} ACLs and {len(topics(catalogue, args.prefix))} topics in place\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
