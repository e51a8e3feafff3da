/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay main for fuzz targets (crun's habit): runs LLVMFuzzerTestOneInput
 * on every file under the given directories, one TAP case per file, so that
 * the committed corpus and every past finding run in each normal test run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("not ok %d - %s (cannot open)\n", ++n, path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return 1;
	}
	size_t got;
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	/* Copy into an exact-size allocation so ASan catches reads past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact && len)
		memcpy(exact, buf, len);
	free(buf);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("not ok %d - corpus %s missing\n", ++n, dir);
		return 1;
	}
	char **names = NULL;
	size_t cnt = 0, alloc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (cnt == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			char **nn = realloc(names, alloc * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		names[cnt++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, cnt, sizeof(*names), cmp);
	int fails = 0;
	for (size_t i = 0; i < cnt; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			fails += replay_dir(path);
		else if (names[i])
			fails += replay_file(path);
		free(names[i]);
	}
	free(names);
	return fails;
}

int main(int argc, char **argv)
{
	int fails = 0;
	for (int i = 1; i < argc; i++)
		fails += replay_dir(argv[i]);
	printf("1..%d\n", n);
	return fails ? 1 : 0;
}
