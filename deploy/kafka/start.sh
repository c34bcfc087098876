#!/bin/bash
# The compose Kafka as the local stack runs it (stack/servers/kafka.ts): one KRaft broker+controller,
# clients authenticate with SCRAM-SHA-512, and the StandardAuthorizer allows only what kafka-init grants.
# SCRAM credentials are written when the storage is formatted (first start of the volume).
set -euo pipefail
props=/tmp/server.properties
jaas() { echo "org.apache.kafka.common.security.$1 required username=\"$2\" password=\"$3\"$4;"; }
cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
# Containers use kafka:9092; the host uses localhost:29092.
listeners=INTERNAL://:9092,CONTROLLER://:9093,HOST://:29092
advertised.listeners=INTERNAL://kafka:9092,HOST://localhost:29092
listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=$(jaas scram.ScramLoginModule admin "$KAFKA_ADMIN_PASSWORD" '')
# Every SASL listener needs its own JAAS entry (the broker side of SCRAM holds no credentials).
listener.name.host.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# The controller authenticates with PLAIN: SCRAM credentials live in the metadata it serves.
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$(jaas plain.PlainLoginModule controller "$KAFKA_CONTROLLER_PASSWORD" " user_controller=\"$KAFKA_CONTROLLER_PASSWORD\"")
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:controller
allow.everyone.if.no.acl.found=false
log.dirs=/var/lib/kafka/data
num.partitions=3
# Topics are created explicitly (kafka-init), so a typo never creates a new topic.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
# The admin's client settings, for the healthcheck.
cat >/tmp/admin.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$(jaas scram.ScramLoginModule admin "$KAFKA_ADMIN_PASSWORD" '')
PROPS
scram() { echo "SCRAM-SHA-512=[name=$1,password=$2]"; }
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id="$CLUSTER_ID" -c "$props" \
  --add-scram "$(scram admin "$KAFKA_ADMIN_PASSWORD")" \
  --add-scram "$(scram order "$KAFKA_ORDER_PASSWORD")" \
  --add-scram "$(scram payment "$KAFKA_PAYMENT_PASSWORD")" \
  --add-scram "$(scram notification "$KAFKA_NOTIFICATION_PASSWORD")"
exec /opt/kafka/bin/kafka-server-start.sh "$props"
