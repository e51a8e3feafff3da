/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

/*
 * The command table (git's pattern). Keep it sorted by name; `kiln help`
 * prints it in this order.
 */
const struct cli_command cli_commands[] = {
	{ "build", cmd_build, "build an image from a Dockerfile and a context (BuildKit's semantics)" },
	{ "context", cmd_context, "show what a build would send as context, after .dockerignore" },
	{ "debug", cmd_debug, "developer tools: see how kiln reads words, patterns, ..." },
	{ "fsck", cmd_fsck, "check the store: blob digests, images, names and references" },
	{ "images", cmd_images, "list the images in the store" },
	{ "import", cmd_import, "make a one-layer image from a root filesystem (dir or tar)" },
	{ "inspect", cmd_inspect, "show images' configs and manifests as JSON" },
	{ "lint", cmd_lint, "check Dockerfiles: hadolint's rules, BuildKit's checks, ShellCheck, multi-stage pitfalls" },
	{ "load", cmd_load, "load images from a docker-archive or oci-archive" },
	{ "login", cmd_login, "check credentials against a registry and store them" },
	{ "logout", cmd_logout, "forget the credentials stored for a registry" },
	{ "parse", cmd_parse, "print a Dockerfile's syntax tree (BuildKit's dump or JSON)" },
	{ "prune", cmd_prune, "delete unreferenced blobs and leftovers of interrupted commands" },
	{ "pull", cmd_pull, "download an image from a registry" },
	{ "push", cmd_push, "upload an image to a registry" },
	{ "rmi", cmd_rmi, "remove images or their names" },
	{ "run", cmd_run, "run a command in a sandbox over an image from the store" },
	{ "save", cmd_save, "write images to a docker-archive or oci-archive" },
	{ "stages", cmd_stages, "show a Dockerfile's stages, what the target needs, the schedule" },
	{ "tag", cmd_tag, "give an image another name" },
	{ "version", cmd_version, "print kiln's version and the libraries it uses" },
	{ NULL, NULL, NULL },
};
