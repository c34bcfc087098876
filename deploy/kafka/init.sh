#!/bin/bash
# Topics and ACLs of the compose Kafka, as the admin. The ACLs are packages/common/src/kafka-access.ts
# line for line (compose:check compares): each service writes and reads only its own topics and groups.
set -euo pipefail
cat >/tmp/admin.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
PROPS
bin=/opt/kafka/bin
admin=(--bootstrap-server kafka:9092 --command-config /tmp/admin.properties)

for topic in order.create payment.event order.event notification.dlq paystream.parked stripe.events; do
  "$bin/kafka-topics.sh" "${admin[@]}" --create --if-not-exists --topic "$topic" --partitions 3 --replication-factor 1
done

# The services' SCRAM credentials, on every run: a volume formatted earlier, or a password changed in .env.
for user in order payment notification; do
  var="KAFKA_${user^^}_PASSWORD"
  "$bin/kafka-configs.sh" "${admin[@]}" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[password=${!var}]" >/dev/null
done

# acl <principal> <Write|Read> <topic|group> <name> [prefixed]
acl() {
  "$bin/kafka-acls.sh" "${admin[@]}" --add --allow-principal "User:$1" --operation "$2" \
    "--$3" "$4" ${5:+--resource-pattern-type "$5"} >/dev/null
}
acl order Write topic order.create
acl order Write topic order.event
acl order Write topic paystream.parked
acl order Read topic payment.event
acl order Read group order-service
acl payment Write topic payment.event
acl payment Write topic stripe.events
acl payment Write topic paystream.parked
acl payment Read topic order.create
acl payment Read group payment-service
acl notification Write topic notification.dlq
acl notification Write topic paystream.parked
acl notification Read topic payment.event
acl notification Read topic order.event
acl notification Read topic notification.dlq
acl notification Read group notification-service
acl notification Read group notification-webhooks
acl notification Read group dlq-reader- prefixed
echo "kafka-init: topics and ACLs in place"
