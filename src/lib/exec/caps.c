/* SPDX-License-Identifier: Apache-2.0 */
/* Capability sets: Docker's default and parsing names (libcap). */
#include "exec/exec.h"

#include <ctype.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/capability.h>

uint64_t kiln_exec_caps_default(void)
{
	static const int caps[] = {
		CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,	     CAP_FOWNER,
		CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,	     CAP_SETUID,
		CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
		CAP_KILL,    CAP_AUDIT_WRITE,
	};
	uint64_t set = 0;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(caps); i++)
		set |= KILN_EXEC_CAP(caps[i]);
	return set;
}

int kiln_exec_caps_parse(const char *list, uint64_t *ret, struct kiln_error *err)
{
	uint64_t set = 0;
	const char *p = list ? list : "";
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t) (comma - p) : strlen(p);
		char name[64];
		if (len == 0 || len + 5 >= sizeof(name))
			return kiln_fail(err, KILN_EINVAL, 0, "invalid capability '%.*s'",
					 (int) len, p);
		size_t off = 0;
		if (!(len > 4 && strncasecmp(p, "CAP_", 4) == 0)) {
			memcpy(name, "cap_", 4);
			off = 4;
		}
		for (size_t i = 0; i < len; i++)
			name[off + i] = (char) tolower((unsigned char) p[i]);
		name[off + len] = '\0';
		if (strcmp(name, "cap_all") == 0) {
			int max = (int) cap_max_bits();
			for (int c = 0; c < max && c < 64; c++)
				set |= KILN_EXEC_CAP(c);
		} else {
			cap_value_t v;
			if (cap_from_name(name, &v) < 0 || v < 0 || v >= 64)
				return kiln_fail(err, KILN_EINVAL, 0, "unknown capability '%.*s'",
						 (int) len, p);
			set |= KILN_EXEC_CAP(v);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*ret = set;
	return 0;
}
