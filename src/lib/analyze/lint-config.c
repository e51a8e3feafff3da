/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "analyze/lint.h"
#include "base/alloc.h"

void kiln_lint_config_init(struct kiln_lint_config *c)
{
	*c = (struct kiln_lint_config){ .failure_threshold = KILN_LINT_INFO };
}

void kiln_lint_config_release(struct kiln_lint_config *c)
{
	if (!c)
		return;
	kiln_strv_release(&c->ignored);
	kiln_strv_release(&c->override_rule);
	free(c->override_sev);
	kiln_strv_release(&c->trusted_registries);
	for (size_t i = 0; i < c->n_labels; i++)
		free(c->labels[i].name);
	free(c->labels);
	kiln_lint_config_init(c);
}

int kiln_lint_config_ignore(struct kiln_lint_config *c, const char *rule)
{
	if (kiln_strv_find(&c->ignored, rule) >= 0)
		return 0;
	return kiln_strv_push(&c->ignored, rule);
}

int kiln_lint_config_override(struct kiln_lint_config *c, const char *rule,
			      enum kiln_lint_severity sev)
{
	enum kiln_lint_severity *ns =
		kiln_reallocarray(c->override_sev, c->override_rule.len + 1, sizeof(*ns));
	if (!ns)
		return -KILN_ENOMEM;
	c->override_sev = ns;
	if (kiln_strv_push(&c->override_rule, rule) < 0)
		return -KILN_ENOMEM;
	c->override_sev[c->override_rule.len - 1] = sev;
	return 0;
}

int kiln_lint_config_trust(struct kiln_lint_config *c, const char *registry)
{
	if (kiln_strv_find(&c->trusted_registries, registry) >= 0)
		return 0;
	return kiln_strv_push(&c->trusted_registries, registry);
}

int kiln_lint_config_label(struct kiln_lint_config *c, const char *name,
			   enum kiln_lint_label_type type)
{
	for (size_t i = 0; i < c->n_labels; i++) {
		if (strcmp(c->labels[i].name, name) == 0) {
			c->labels[i].type = type;
			return 0;
		}
	}
	struct kiln_lint_label *nl = kiln_reallocarray(c->labels, c->n_labels + 1, sizeof(*nl));
	if (!nl)
		return -KILN_ENOMEM;
	c->labels = nl;
	if (!(nl[c->n_labels].name = kiln_strdup(name)))
		return -KILN_ENOMEM;
	nl[c->n_labels++].type = type;
	return 0;
}

/* ---- YAML ---- */

struct yctx {
	yaml_document_t *doc;
	const char *source;
	struct kiln_lint_config *c;
	char **format;
	struct kiln_error *err;
};

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static int bad(struct yctx *y, const yaml_node_t *n, const char *what, const char *key)
{
	return kiln_fail_at(y->err, KILN_EPARSE, y->source, line_of(n), 0, "%s: %s", key, what);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int boolean(struct yctx *y, const yaml_node_t *n, const char *key, int *ret)
{
	const char *s = scalar(n);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))) {
		*ret = 1;
		return 0;
	}
	if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))) {
		*ret = 0;
		return 0;
	}
	return bad(y, n, "expected true or false", key);
}

/* A scalar or a sequence of scalars; fn called for each. */
static int each_string(struct yctx *y, yaml_node_t *n, const char *key,
		       int (*fn)(struct yctx *, yaml_node_t *, const char *, void *), void *ud)
{
	if (n->type == YAML_SCALAR_NODE)
		return fn(y, n, scalar(n), ud);
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(y, n, "expected a string or a list of strings", key);
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(y->doc, *it);
		if (!e || e->type != YAML_SCALAR_NODE)
			return bad(y, e ? e : n, "expected a string", key);
		int r = fn(y, e, scalar(e), ud);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_ignored(struct yctx *y, yaml_node_t *n, const char *s, void *ud)
{
	(void)n;
	(void)ud;
	if (kiln_lint_config_ignore(y->c, s) < 0)
		return kiln_fail(y->err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static int add_trusted(struct yctx *y, yaml_node_t *n, const char *s, void *ud)
{
	(void)n;
	(void)ud;
	if (kiln_lint_config_trust(y->c, s) < 0)
		return kiln_fail(y->err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static int add_override(struct yctx *y, yaml_node_t *n, const char *s, void *ud)
{
	(void)n;
	if (kiln_lint_config_override(y->c, s, *(enum kiln_lint_severity *)ud) < 0)
		return kiln_fail(y->err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static int overrides(struct yctx *y, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(y, n, "expected a mapping of severity to rules", "override");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
		const char *ks = scalar(k);
		enum kiln_lint_severity sev;
		if (!ks || !v || kiln_lint_severity_parse(ks, &sev, NULL) < 0 || sev > KILN_LINT_IGNORE)
			return bad(y, k ? k : n, "expected error, warning, info, style or ignore",
				   "override");
		if (v->type == YAML_SCALAR_NODE && !*scalar(v))
			continue;
		int r = each_string(y, v, ks, add_override, &sev);
		if (r < 0)
			return r;
	}
	return 0;
}

static int labels(struct yctx *y, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(y, n, "expected a mapping of label names to types", "label-schema");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
		const char *ks = scalar(k), *vs = scalar(v);
		int t = kiln_lint_label_type_parse(vs);
		if (!ks || t < 0)
			return bad(y, v ? v : n,
				   "expected a label type: text, url, email, hash, rfc3339, semver or spdx",
				   ks ? ks : "label-schema");
		if (kiln_lint_config_label(y->c, ks, (enum kiln_lint_label_type)t) < 0)
			return kiln_fail(y->err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

static int top(struct yctx *y, yaml_node_t *root)
{
	if (root->type == YAML_SCALAR_NODE && !*scalar(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return kiln_fail_at(y->err, KILN_EPARSE, y->source, line_of(root), 0,
				    "the configuration must be a mapping");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
		const char *key = scalar(k);
		int r = 0;
		if (!key || !v)
			return kiln_fail_at(y->err, KILN_EPARSE, y->source, k ? line_of(k) : 0, 0,
					    "keys must be strings");
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
		    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			continue; /* `key:` with no value */
		if (!strcmp(key, "ignored"))
			r = each_string(y, v, key, add_ignored, NULL);
		else if (!strcmp(key, "trustedRegistries") || !strcmp(key, "trusted-registries"))
			r = each_string(y, v, key, add_trusted, NULL);
		else if (!strcmp(key, "override"))
			r = overrides(y, v);
		else if (!strcmp(key, "label-schema") || !strcmp(key, "labelschema"))
			r = labels(y, v);
		else if (!strcmp(key, "strict-labels") || !strcmp(key, "strictlabels"))
			r = boolean(y, v, key, &y->c->strict_labels);
		else if (!strcmp(key, "disable-ignore-pragma"))
			r = boolean(y, v, key, &y->c->disable_ignore_pragma);
		else if (!strcmp(key, "no-fail"))
			r = boolean(y, v, key, &y->c->no_fail);
		else if (!strcmp(key, "failure-threshold")) {
			if (kiln_lint_severity_parse(scalar(v), &y->c->failure_threshold, NULL) < 0)
				return bad(y, v,
					   "expected error, warning, info, style, ignore or none", key);
			y->c->threshold_set = 1;
		} else if (!strcmp(key, "format") || !strcmp(key, "output-format")) {
			const char *s = scalar(v);
			if (!s)
				return bad(y, v, "expected a format name", key);
			if (y->format) {
				free(*y->format);
				if (!(*y->format = kiln_strdup(s)))
					return kiln_fail(y->err, KILN_ENOMEM, 0, "out of memory");
			}
		} else if (!strcmp(key, "no-color") || !strcmp(key, "verbose") ||
			   !strcmp(key, "file-path-in-report") || !strcmp(key, "disable-ignore-pragmas")) {
			int dummy;
			r = boolean(y, v, key, &dummy);
		} else {
			return kiln_fail_at(y->err, KILN_EPARSE, y->source, line_of(k), 0,
					    "unknown key '%s'", key);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int kiln_lint_config_load_yaml(struct kiln_lint_config *c, const char *data, size_t len,
			       const char *source, char **ret_format, struct kiln_error *err)
{
	if (len > KILN_LINT_CONFIG_MAX)
		return kiln_fail_at(err, KILN_ELIMIT, source, 0, 0,
				    "configuration larger than %zu bytes", KILN_LINT_CONFIG_MAX);
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int line = (int)parser.problem_mark.line + 1;
		int r = kiln_fail_at(err, KILN_EPARSE, source, line, 0, "invalid YAML: %s",
				     parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return r;
	}
	yaml_parser_delete(&parser);
	struct yctx y = { .doc = &doc, .source = source, .c = c, .format = ret_format, .err = err };
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	int r = root ? top(&y, root) : 0;
	yaml_document_delete(&doc);
	return r;
}

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int kiln_lint_config_find(const char *cwd, const char *xdg, const char *home, char **ret_path,
			  struct kiln_error *err)
{
	static const char *const local[] = { ".kiln-lint.yaml", ".kiln-lint.yml", ".hadolint.yaml",
					     ".hadolint.yml", NULL };
	*ret_path = NULL;
	cleanup_free char *xdg_own = NULL;
	if ((!xdg || !*xdg) && home && !(xdg = xdg_own = kiln_asprintf("%s/.config", home)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct {
		const char *dir;
		const char *name;
	} cand[8];
	size_t n = 0;
	for (size_t i = 0; cwd && local[i]; i++)
		cand[n++] = (typeof(cand[0])){ cwd, local[i] };
	if (xdg && *xdg) {
		cand[n++] = (typeof(cand[0])){ xdg, "kiln/lint.yaml" };
		cand[n++] = (typeof(cand[0])){ xdg, "hadolint.yaml" };
	}
	if (home)
		cand[n++] = (typeof(cand[0])){ home, ".hadolint.yaml" };
	for (size_t i = 0; i < n; i++) {
		char *p = kiln_asprintf("%s/%s", cand[i].dir, cand[i].name);
		if (!p)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (exists(p)) {
			*ret_path = p;
			return 0;
		}
		free(p);
	}
	return 0;
}
