#!/usr/bin/env bash
# The local Kafka's own certificate authority and the broker's certificate, made with the JDK's
# keytool (the broker needs a JDK anyway). Kept apart from any other local CA on purpose: this
# one only vouches for the broker.
#
#   deploy/local/kafka/tls.sh DIR    make DIR/{ca.p12,ca.pem,broker.p12,truststore.p12,store-password}
#                                    unless DIR/ca.pem exists (idempotent)
#
# ca.pem is what clients trust (RECOUVRA_KAFKA_CA_FILE). The broker presents broker.p12 on its
# SASL_SSL listener and, as its client certificate, on the controller listener, which requires
# one signed by this CA (mutual TLS). The certificate names 127.0.0.1 and localhost.
set -euo pipefail

DIR=${1:?usage: tls.sh DIR}
[[ -f $DIR/ca.pem ]] && exit 0
mkdir -p "$DIR"
chmod 700 "$DIR"
tmp=$(mktemp -d "$DIR/.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

kt() { keytool -J-XX:TieredStopAtLevel=1 -J-Xmx64m "$@"; }
pass=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
printf '%s\n' "$pass" >"$tmp/store-password"
common=(-storetype PKCS12 -storepass "$pass" -keypass "$pass")

kt -genkeypair -alias ca -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA -validity 3650 \
  -dname "CN=Recouvra local Kafka CA" -ext bc:c=ca:true,pathlen:0 -ext ku:c=keyCertSign,cRLSign \
  -keystore "$tmp/ca.p12" "${common[@]}"
kt -exportcert -rfc -alias ca -keystore "$tmp/ca.p12" -storepass "$pass" -file "$tmp/ca.pem"
kt -genkeypair -alias broker -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA -validity 825 \
  -dname "CN=kafka-broker" -keystore "$tmp/broker.p12" "${common[@]}"
kt -certreq -alias broker -keystore "$tmp/broker.p12" -storepass "$pass" -file "$tmp/broker.csr"
kt -gencert -alias ca -keystore "$tmp/ca.p12" -storepass "$pass" -infile "$tmp/broker.csr" \
  -outfile "$tmp/broker.pem" -rfc -validity 825 -sigalg SHA256withECDSA \
  -ext SAN=ip:127.0.0.1,dns:localhost -ext ku:c=digitalSignature -ext eku=serverAuth,clientAuth
# The reply must chain to a trusted certificate: import the CA, then the signed certificate.
kt -importcert -noprompt -alias ca -file "$tmp/ca.pem" -keystore "$tmp/broker.p12" "${common[@]}"
kt -importcert -alias broker -file "$tmp/broker.pem" -keystore "$tmp/broker.p12" "${common[@]}"
kt -importcert -noprompt -alias ca -file "$tmp/ca.pem" -keystore "$tmp/truststore.p12" "${common[@]}"

rm -f "$tmp/broker.csr" "$tmp/broker.pem"
chmod 600 "$tmp"/*
chmod 644 "$tmp/ca.pem"
# ca.pem last: its presence says the set is complete.
mv "$tmp"/{broker.p12,ca.p12,store-password,truststore.p12} "$DIR/"
mv "$tmp/ca.pem" "$DIR/"
