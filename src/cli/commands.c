/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

/*
 * The command table (git's pattern). Keep it sorted by name; `kiln help`
 * prints it in this order.
 */
const struct cli_command cli_commands[] = {
	{ "build", cmd_build,
	  "build an image from a Dockerfile and a context (BuildKit's semantics)",
	  CLI_SETTLES_LAYERS },
	{ "context", cmd_context,
	  "show what a build would send as context, after .dockerignore", 0 },
	{ "debug", cmd_debug, "developer tools: see how kiln reads words, patterns, ...",
	  CLI_SETTLES_LAYERS },
	{ "fsck", cmd_fsck, "check the store: blob digests, images, names and references", 0 },
	{ "images", cmd_images, "list the images in the store", 0 },
	{ "import", cmd_import, "make a one-layer image from a root filesystem (dir or tar)", 0 },
	{ "inspect", cmd_inspect, "show images' configs and manifests as JSON", 0 },
	{ "lint", cmd_lint,
	  "check Dockerfiles: hadolint's rules, BuildKit's checks, ShellCheck, "
	  "multi-stage pitfalls",
	  CLI_ARENA_PER_THREAD },
	{ "load", cmd_load, "load images from a docker-archive or oci-archive", 0 },
	{ "login", cmd_login, "check credentials against a registry and store them", 0 },
	{ "logout", cmd_logout, "forget the credentials stored for a registry", 0 },
	{ "parse", cmd_parse, "print a Dockerfile's syntax tree (BuildKit's dump or JSON)", 0 },
	{ "prune", cmd_prune,
	  "delete unreferenced blobs and leftovers of interrupted commands", 0 },
	{ "pull", cmd_pull, "download an image from a registry", 0 },
	{ "push", cmd_push, "upload an image to a registry", 0 },
	{ "rmi", cmd_rmi, "remove images or their names", 0 },
	{ "run", cmd_run, "run a command in a sandbox over an image from the store",
	  CLI_SETTLES_LAYERS },
	{ "save", cmd_save, "write images to a docker-archive or oci-archive", 0 },
	{ "stages", cmd_stages,
	  "show a Dockerfile's stages, what the target needs, the schedule", 0 },
	{ "tag", cmd_tag, "give an image another name", 0 },
	{ "version", cmd_version, "print kiln's version and the libraries it uses", 0 },
	{ NULL, NULL, NULL, 0 },
};
