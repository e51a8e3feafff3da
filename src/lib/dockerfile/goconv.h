/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/*
 * The Go library behaviour BuildKit's instruction parser and converter lean
 * on, reproduced where a value or an error message depends on it:
 * strconv.ParseBool/ParseInt/ParseUint, time.ParseDuration, go-units'
 * RAMInBytes, moby's signal names, encoding/csv for one record, Levenshtein
 * "did you mean" suggestions (BuildKit's util/suggest), chmod(1) symbolic
 * modes (dchapes-mode) and Go's EqualFold for the AS keyword.
 * Module-private.
 */

/** Error kinds of df_go_parse_int/uint, as strconv reports them. */
enum df_go_num_err {
	DF_GO_NUM_OK = 0,
	DF_GO_NUM_SYNTAX = -1, /* "invalid syntax" */
	DF_GO_NUM_RANGE = -2,  /* "value out of range" */
};

/**
 * strconv.ParseInt / ParseUint for base 8 or 10 (no prefixes, no
 * underscores: those need base 0) and a bit size of 8..64.
 */
int df_go_parse_int(const char *s, int base, int bits, int64_t *ret);
int df_go_parse_uint(const char *s, int base, int bits, uint64_t *ret);

/** Fail with strconv's message: `strconv.ParseInt: parsing "x": invalid syntax`. */
int df_go_num_fail(struct kiln_error *err, const char *fn, const char *s, int numerr);

/**
 * time.ParseDuration: nanoseconds in *ret. On failure `err` holds Go's
 * message (`time: invalid duration "1x"`, `time: missing unit in duration
 * "5"`, `time: unknown unit "q" in duration "1q"`).
 */
int df_go_parse_duration(const char *s, int64_t *ret, struct kiln_error *err);

/** go-units RAMInBytes ("64m", "1.5g", "100"): 0 or -1 (invalid size). */
int df_go_ram_in_bytes(const char *s, int64_t *ret);

/**
 * moby/sys/signal.ParseSignal for Linux: a non-zero number, or a name with
 * or without "SIG" in any case (RTMIN+n, RTMAX-n included). 0 with the
 * number in *ret, or -1.
 */
int df_go_parse_signal(const char *s, int *ret);

/**
 * One CSV record with encoding/csv's rules (comma separator, RFC 4180
 * quotes, no trimming). Fields are appended to `out` (heap strings). On a
 * malformed record `err` holds encoding/csv's message.
 */
struct kiln_strv;
int df_go_csv_fields(const char *s, struct kiln_strv *out, struct kiln_error *err);

/** Levenshtein distance over runes (insert, delete and substitute cost 1). */
size_t df_levenshtein(const char *a, const char *b);

/**
 * BuildKit's suggest.Search: the option closest to `val` with a distance
 * below 3 (the first one found at the smallest distance), or NULL; NULL as
 * well when an option equals `val`. Case-insensitive search compares
 * lower-cased and returns the option in `val`'s case when `val` is all
 * lower or all upper case.
 * `*ret_owned` receives a heap copy when the case had to be changed.
 */
const char *df_suggest(const char *val, const char *const *options, size_t n, int case_sensitive,
		       char **ret_owned);

/** strings.EqualFold(s, "as"), Unicode simple folding included ('ſ' folds to 's'). */
int df_go_equal_fold_as(const char *s);

/** s == strings.ToUpper(s) for ASCII letters (other runes count as having no case). */
static inline int df_go_is_upper(const char *s)
{
	/* inline: the case checks ask it of every keyword */
	for (const char *p = s; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			return 0;
	return 1;
}
/** s == strings.ToLower(s), with Go's Unicode lower-casing. -KILN_ENOMEM on failure. */
int df_go_is_lower(const char *s);

/**
 * BuildKit's --chmod rules: an octal number up to 07777, else a symbolic
 * mode such as `u=rwx,go=rx` or `+x`. Errors carry BuildKit's messages
 * ("invalid chmod parameter: '...'. it should be octal string and between 0
 * and 07777", "invalid syntax").
 */
int df_chmod_validate(const char *s, struct kiln_error *err);
