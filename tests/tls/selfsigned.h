/* SPDX-License-Identifier: MIT */
/* selfsigned.h -- a key and a self-signed certificate for localhost, made with OpenSSL, for test programs */

#ifndef SOCK_TEST_SELFSIGNED_H
#define SOCK_TEST_SELFSIGNED_H

#include <stdbool.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* A P-256 key and a certificate for CN=localhost signed by it, valid from
 * an hour ago for days days, written as PEM to dir/cert.pem and
 * dir/key.pem (their paths into cert and key, size bytes each).  Returns
 * whether both were written. */
static inline bool selfsigned_write(const char *dir, long days, char *cert,
				    char *key, size_t size)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	bool ok = false;
	FILE *f;

	if (!pkey || !x)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * days);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1,
				   0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	snprintf(cert, size, "%s/cert.pem", dir);
	snprintf(key, size, "%s/key.pem", dir);
	f = fopen(cert, "w");
	if (!f)
		goto out;
	ok = PEM_write_X509(f, x) == 1;
	fclose(f);
	f = fopen(key, "w");
	if (!f) {
		ok = false;
		goto out;
	}
	ok = ok && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	fclose(f);
out:
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ok;
}

#endif /* SOCK_TEST_SELFSIGNED_H */
