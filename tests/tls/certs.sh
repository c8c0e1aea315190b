#!/bin/sh
# certs.sh -- the TLS tests' certificates, made at test time by openssl(1)
#
# usage: tests/tls/certs.sh DIR
#
# Writes into DIR (PEM; each key beside its certificate, KEY.key):
#   ca.pem        a CA, the one the tests trust
#   leaf.pem      localhost, 127.0.0.1 and ::1, signed by the CA
#   expired.pem   localhost and 127.0.0.1, signed by the CA, expired
#   other.pem     other.example only (a name mismatch), signed by the CA
#   self.pem      localhost and 127.0.0.1, signed by itself
#   client.pem    a client certificate (CN=libsock test client), by the CA
#   stranger.pem  a client certificate signed by a CA nobody trusts
# Keys are P-256: quick to make, and every peer speaks it.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }

# A v3 certificate NAME.pem for CN, signed by CA (self: by itself), with
# the extensions EXT, valid for two days from now.
sign() { # NAME CN CA EXT
	name=$1 cn=$2 ca=$3 ext=$4
	key "$name"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	printf '%s\n' "$ext" >"$name.ext"
	if [ "$ca" = self ]; then
		set -- -signkey "$name.key"
	else
		set -- -CA "$ca.pem" -CAkey "$ca.key"
	fi
	openssl x509 -req -in "$name.csr" "$@" -days 2 -extfile "$name.ext" \
		-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
		-out "$name.pem" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

key ca
openssl req -new -x509 -key ca.key -subj "/CN=libsock test CA" -days 2 \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>/dev/null

server_ext="basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
sign leaf localhost ca "$server_ext"
sign self localhost self "$server_ext"
sign other other.example ca "basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth
subjectAltName=DNS:other.example"
sign client "libsock test client" ca "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth"

# Expired: valid for one day of 2020.  openssl x509 takes no dates, so
# this one is signed with openssl ca, whose -startdate and -enddate do.
key expired
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
mkdir -p db
: >db/index
printf '1000\n' >db/serial
cat >db/ca.cnf <<EOF
[ca]
default_ca = test
[test]
database = db/index
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = anything
copy_extensions = none
[anything]
commonName = supplied
[server]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
EOF
openssl ca -batch -config db/ca.cnf -cert ca.pem -keyfile ca.key \
	-startdate 20200101000000Z -enddate 20200102000000Z -extensions server \
	-in expired.csr -out expired.pem -notext 2>/dev/null
rm -rf db expired.csr

# A client certificate from a CA the server does not trust.
key stranger-ca
openssl req -new -x509 -key stranger-ca.key -subj "/CN=nobody's CA" -days 2 \
	-addext "basicConstraints=critical,CA:TRUE" -out stranger-ca.pem 2>/dev/null
sign stranger "stranger" stranger-ca "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth"
