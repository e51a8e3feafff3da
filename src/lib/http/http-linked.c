/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl linked into the binary: the static HTTP(S)-only build that
 * scripts/build-libcurl makes from Debian's curl source, with mbedTLS. The
 * table is filled from the linked functions, so callers are the same as
 * with the dlopen() variant (http.c); only curl_global_init() is left to
 * the first caller, once per process, as there.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <pthread.h>
#include <string.h>

#include "base/base.h"

static const struct kiln_http_curl linked = {
	.version = curl_version,
	.version_info = curl_version_info,
	.global_init = curl_global_init,
	.getdate = curl_getdate,
	.slist_append = curl_slist_append,
	.slist_free_all = curl_slist_free_all,
	.easy_init = curl_easy_init,
	.easy_setopt = curl_easy_setopt,
	.easy_getinfo = curl_easy_getinfo,
	.easy_perform = curl_easy_perform,
	.easy_cleanup = curl_easy_cleanup,
	.easy_strerror = curl_easy_strerror,
	.multi_init = curl_multi_init,
	.multi_setopt = curl_multi_setopt,
	.multi_add_handle = curl_multi_add_handle,
	.multi_remove_handle = curl_multi_remove_handle,
	.multi_perform = curl_multi_perform,
	.multi_poll = curl_multi_poll,
	.multi_info_read = curl_multi_info_read,
	.multi_cleanup = curl_multi_cleanup,
	.share_init = curl_share_init,
	.share_setopt = curl_share_setopt,
	.share_cleanup = curl_share_cleanup,
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/* written once, by init() under init_once; never after */
static CURLcode init_code;

static void init(void)
{
	init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int kiln_http_load(const struct kiln_http_curl **ret, struct kiln_error *err)
{
	int r = pthread_once(&init_once, init);
	if (r != 0)
		return kiln_fail(err, KILN_EINTERNAL, r, "libcurl: pthread_once failed");
	if (init_code != CURLE_OK)
		return kiln_fail(err, KILN_EUNSUPP, 0, "libcurl cannot be set up: curl_global_init: %s",
				 curl_easy_strerror(init_code));
	*ret = &linked;
	return 0;
}

/* The address of the host a URL names, if it is an IP literal. */
static int url_ip(const char *url, unsigned char ip[16], size_t *len)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int r = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		size_t n = strlen(host);
		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = 0;
			if (inet_pton(AF_INET6, host + 1, ip) == 1) {
				*len = 16;
				r = 0;
			}
		} else if (inet_pton(AF_INET, host, ip) == 1) {
			*len = 4;
			r = 0;
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

#define SEQUENCE (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

/* Whether the certificate's subjectAltName extension lists the address. */
static int cert_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t ip_len)
{
	unsigned char *p = crt->v3_ext.p;
	unsigned char *end = p ? p + crt->v3_ext.len : NULL;
	size_t len;
	/* Extensions ::= SEQUENCE OF Extension */
	if (!p || mbedtls_asn1_get_tag(&p, end, &len, SEQUENCE) != 0)
		return 0;
	end = p + len;
	while (p < end) {
		/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } */
		if (mbedtls_asn1_get_tag(&p, end, &len, SEQUENCE) != 0)
			return 0;
		unsigned char *ext_end = p + len;
		mbedtls_x509_buf oid = { .tag = MBEDTLS_ASN1_OID };
		if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
			return 0;
		oid.p = p;
		p += oid.len;
		int critical;
		(void) mbedtls_asn1_get_bool(&p, ext_end, &critical); /* absent: FALSE */
		if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0)
			return 0;
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_ALT_NAME, &oid) != 0) {
			p = ext_end;
			continue;
		}
		/* GeneralNames ::= SEQUENCE OF GeneralName; iPAddress is [7] OCTET STRING */
		unsigned char *q = p;
		if (mbedtls_asn1_get_tag(&q, p + len, &len, SEQUENCE) != 0)
			return 0;
		unsigned char *names_end = q + len;
		while (q < names_end) {
			unsigned char tag = *q++;
			if (mbedtls_asn1_get_len(&q, names_end, &len) != 0)
				return 0;
			if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) &&
			    len == ip_len && memcmp(q, ip, ip_len) == 0)
				return 1;
			q += len;
		}
		return 0;
	}
	return 0;
}

/*
 * mbedTLS calls this for each certificate of a verified chain, the server's
 * last (depth 0), with the flags it found. Only a name mismatch of the
 * server's certificate is lifted, and only when the URL's host (after
 * redirects: libcurl updates the effective URL before it connects) is an
 * IP address that the certificate lists; the chain's trust is left as
 * found. An https proxy's handshake comes here too and is held to the same
 * address: a trusted certificate listing it would be taken, as the
 * registry's own would.
 */
static int verify_ip_names(void *data, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	CURL *h = data;
	char *url = NULL;
	unsigned char ip[16];
	size_t ip_len;
	if (depth == 0 && (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) &&
	    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url &&
	    url_ip(url, ip, &ip_len) == 0 && cert_has_ip(crt, ip, ip_len))
		*flags &= ~(uint32_t) MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

/* libcurl calls this with each new connection's mbedTLS configuration. */
static CURLcode set_verify(CURL *h, void *ssl_config, void *data)
{
	(void) data;
	mbedtls_ssl_conf_verify(ssl_config, verify_ip_names, h);
	return CURLE_OK;
}

CURLcode kiln_http_tls_ip_names(CURL *h)
{
	return curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, set_verify);
}
