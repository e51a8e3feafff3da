/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "cli.h"

/* NULL-terminated, sorted by name. */
extern const struct cli_command cli_commands[];
