/* SPDX-License-Identifier: Apache-2.0 */
/* The files kiln generates for a sandbox: /etc/hosts (with --add-host's entries)
 * and /etc/resolv.conf. */
#include "exec/exec.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

char *kiln_exec_hosts_file(const char *hostname, const struct kiln_exec_host *extra, size_t n)
{
	if (!hostname || !*hostname)
		hostname = "kiln";
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_buf_addf(&b,
			      "127.0.0.1\tlocalhost %s\n"
			      "::1\tlocalhost ip6-localhost ip6-loopback\n",
			      hostname);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = kiln_buf_addf(&b, "%s\t%s\n", extra[i].ip, extra[i].name);
	if (r < 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	return kiln_buf_detach(&b, NULL);
}

void kiln_exec_host_release(struct kiln_exec_host *h)
{
	free(h->name);
	free(h->ip);
	memset(h, 0, sizeof(*h));
}

int kiln_exec_host_parse(const char *spec, struct kiln_exec_host *ret, struct kiln_error *err)
{
	*ret = (struct kiln_exec_host){ 0 };
	size_t cut = strcspn(spec, "=");
	if (!spec[cut])
		cut = strcspn(spec, ":");
	const char *ip = spec[cut] ? spec + cut + 1 : "";
	size_t ipn = strlen(ip);
	if (ipn >= 2 && ip[0] == '[' && ip[ipn - 1] == ']')
		ip++, ipn -= 2;
	int ok = cut > 0 && ipn > 0 && strcspn(spec, " \t\n") >= cut;
	cleanup_free char *addr = ok ? kiln_strndup(ip, ipn) : NULL;
	if (ok && !addr)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (addr && !strcmp(addr, "host-gateway")) {
		free(addr);
		addr = kiln_strdup("127.0.0.1");
		if (!addr)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	unsigned char bin[16];
	if (!addr || (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid host %s", spec);
	ret->name = kiln_strndup(spec, cut);
	ret->ip = steal_ptr(&addr);
	if (!ret->name) {
		kiln_exec_host_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

/* Is `s` (len bytes) 127.a.b.c or ::1? */
static int is_loopback_addr(const char *s, size_t len)
{
	if (len == 3 && memcmp(s, "::1", 3) == 0)
		return 1;
	if (len < 4 || memcmp(s, "127.", 4) != 0)
		return 0;
	/* three more dot-separated groups of 1-3 digits */
	int groups = 1, digits = 0;
	for (size_t i = 4; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return 0;
		} else if (s[i] == '.' && digits) {
			groups++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return groups == 3 && digits > 0;
}

/* If the line is "nameserver ADDR", return 1 and set the address. */
static int nameserver_of(const char *line, size_t len, const char **addr, size_t *alen)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 11 || memcmp(line + i, "nameserver", 10) != 0 ||
	    (line[i + 10] != ' ' && line[i + 10] != '\t'))
		return 0;
	i += 10;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t start = i;
	while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
		i++;
	*addr = line + start;
	*alen = i - start;
	return *alen > 0;
}

char *kiln_exec_resolv_conf(const char *host_conf, enum kiln_exec_network net)
{
	struct kiln_buf b = KILN_BUF_INIT;
	const char *p = host_conf ? host_conf : "";
	const char *end = p + strlen(p);
	int nameservers = 0;

	/* first pass: are there usable nameservers at all? */
	for (const char *q = p; q < end;) {
		const char *nl = memchr(q, '\n', (size_t) (end - q));
		size_t len = nl ? (size_t) (nl - q) : (size_t) (end - q);
		const char *addr;
		size_t alen;
		if (nameserver_of(q, len, &addr, &alen))
			nameservers++;
		q += len + (nl ? 1 : 0);
	}
	int filter = net != KILN_EXEC_NET_HOST || nameservers == 0;
	nameservers = 0;
	for (const char *q = p; q < end;) {
		const char *nl = memchr(q, '\n', (size_t) (end - q));
		size_t len = nl ? (size_t) (nl - q) : (size_t) (end - q);
		const char *addr;
		size_t alen;
		int ns = nameserver_of(q, len, &addr, &alen);
		/* a loopback nameserver would point into the sandbox */
		if (!(filter && ns && is_loopback_addr(addr, alen))) {
			nameservers += ns;
			if (kiln_buf_add(&b, q, len) < 0 || kiln_buf_addch(&b, '\n') < 0)
				goto oom;
		}
		q += len + (nl ? 1 : 0);
	}
	if (filter && nameservers == 0) {
		if (kiln_buf_addstr(&b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
					"nameserver 2001:4860:4860::8888\n"
					"nameserver 2001:4860:4860::8844\n") < 0)
			goto oom;
	}
	return kiln_buf_detach(&b, NULL);
oom:
	kiln_buf_release(&b);
	return NULL;
}
