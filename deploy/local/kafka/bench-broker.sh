#!/usr/bin/env bash
# A throwaway Kafka for `make bench` only: one node with the local stack's version, certificate and
# settings, and two client listeners on the loopback, so one run can measure what SASL_SSL costs:
#
#   deploy/local/kafka/bench-broker.sh DIR PASSWORD    runs in the foreground until killed
#     SASL_SSL  (SCRAM-SHA-512, user admin/PASSWORD)  127.0.0.1:${RECOUVRA_BENCH_KAFKA_PORT:-19192}
#     PLAINTEXT (no user)                             127.0.0.1:$((port + 2))
#     controller (plain, loopback)                     127.0.0.1:$((port + 1))
#
# DIR is its data (formatted here, deleted by the caller). The shared stack's broker is never
# touched and keeps its single SASL_SSL listener: this one holds no data of anyone's, lives for
# one bench and is bound to 127.0.0.1. It reuses the stack's broker certificate (which names
# 127.0.0.1) from ${RECOUVRA_STATE}/kafka/tls, so `deploy/local/stack.sh start` must have run.
set -euo pipefail

DIR=${1:?usage: bench-broker.sh DIR PASSWORD}
PASSWORD=${2:?usage: bench-broker.sh DIR PASSWORD}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${RECOUVRA_CACHE:-$HOME/.cache/recouvra}"
STATE="${RECOUVRA_STATE:-$HOME/.local/state/recouvra}"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
LIBS="$CACHE/kafka-$VERSION/libs"
TLS="$STATE/kafka/tls"
PORT=${RECOUVRA_BENCH_KAFKA_PORT:-19192}
JAVA=$([[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]] && echo "$JAVA_HOME/bin/java" || command -v java)
[[ -d $LIBS && -f $TLS/store-password ]] || { echo "bench-broker: run deploy/local/stack.sh start first" >&2; exit 1; }

mkdir -p "$DIR/data"
store=$(<"$TLS/store-password")
cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((PORT + 1))
listeners=SASL_SSL://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$((PORT + 1)),PLAINTEXT://127.0.0.1:$((PORT + 2))
advertised.listeners=SASL_SSL://127.0.0.1:$PORT,PLAINTEXT://127.0.0.1:$((PORT + 2))
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$store
ssl.key.password=$store
ssl.enabled.protocols=TLSv1.3,TLSv1.2
# The same authorizer as the stack's: both listeners pay for it (their users are super users).
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:ANONYMOUS
log.dirs=$DIR/data
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
PROPS
log4j="-Dlog4j2.configurationFile=$HERE/log4j2-tools.properties"
if [[ ! -f $DIR/data/meta.properties ]]; then
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 "$log4j" -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$(python3 -c 'import base64, uuid; print("B" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()[1:22])')" \
    -c "$DIR/server.properties" --add-scram "SCRAM-SHA-512=[name=admin,password=$PASSWORD]" >/dev/null
fi
exec "$JAVA" -Xms256m -Xmx512m -server -XX:+UseG1GC -Djava.awt.headless=true "$log4j" \
  -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties"
