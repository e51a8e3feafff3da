/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#define HELLO_VERSION "1.0.0"

/* Format the HTTP response to one request into out; returns its length. */
size_t respond(const char *request, char *out, size_t cap);
/* Exercise respond() on known requests; 0 when all answers are right. */
int respond_self_test(void);
