/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The base module: what every other module may use. */
#include "alloc.h"
#include "arena.h"
#include "buf.h"
#include "ctx.h"
#include "digest.h"
#include "error.h"
#include "fs.h"
#include "gopath.h"
#include "gotext.h"
#include "strv.h"
#include "unicode.h"
