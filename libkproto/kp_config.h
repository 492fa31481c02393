/*
 * kp_config.h - Java-properties files and table-driven configuration.
 *
 * A program describes its configuration once, as an array of
 * struct kp_config_def (key, type, default, bounds, one-line doc).  That
 * table drives parsing, defaults, validation, `--help` output and the
 * man-page check, so they cannot drift apart.
 *
 * Values are kept as strings as given (or the default) and converted on
 * lookup through the typed getters; validation happens once at load time,
 * so a getter never fails for a key of the table.
 */
#ifndef KP_CONFIG_H
#define KP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum kp_config_type {
	KP_CFG_INT,		/* 32-bit signed */
	KP_CFG_LONG,		/* 64-bit signed */
	KP_CFG_DOUBLE,
	KP_CFG_BOOL,		/* true / false, as Java's parser: case-insensitive */
	KP_CFG_STRING,
	KP_CFG_LIST,		/* comma-separated list of strings */
	KP_CFG_PASSWORD,	/* a string never printed */
};

struct kp_config_def {
	const char *key;
	enum kp_config_type type;
	const char *def;	/* default as text; NULL: no default (required or unset) */
	int64_t min, max;	/* bounds for INT/LONG when min < max */
	const char *valid;	/* for STRING: "a|b|c" allowed values, or NULL */
	const char *doc;	/* one line */
	const char *group;	/* documentation group, e.g. "Log" */
};

/* One parsed properties file entry. */
struct kp_prop {
	char *key;
	char *value;
	int line;
};

struct kp_props {
	struct kp_prop *items;
	size_t count, cap;
};

void kp_props_init(struct kp_props *p);
void kp_props_free(struct kp_props *p);
/* Set (replacing an earlier value) a key. Returns 0 or -1 (no memory). */
int kp_props_set(struct kp_props *p, const char *key, const char *value,
		 int line);
const char *kp_props_get(const struct kp_props *p, const char *key);
/*
 * Parse Java .properties text: '#' and '!' comments, "key=value",
 * "key:value" and "key value", backslash line continuation, \t \n \r \f
 * \uXXXX escapes (encoded as UTF-8), leading whitespace of values trimmed.
 * Later keys replace earlier ones.  Returns 0 or -1 with a message in err.
 */
int kp_props_parse(struct kp_props *p, const char *text, size_t len,
		   char *err, size_t errlen);
int kp_props_load(struct kp_props *p, const char *path, char *err,
		  size_t errlen);
/* Write properties atomically (temp file, fsync, rename). */
int kp_props_store(const struct kp_props *p, const char *path,
		   const char *comment);

struct kp_config {
	const struct kp_config_def *defs;
	size_t ndefs;
	const char **values;	/* per def: the value text, or NULL if unset */
	struct kp_props props;	/* everything given, including unknown keys */
};

/*
 * Build a configuration from a table and given properties (file contents
 * plus --override pairs, already merged).  Every given value of a known key
 * is validated; an invalid one makes this fail with a message naming the
 * key, the value and what is expected.  Unknown keys are reported through
 * warn(key) (they are kept, as Kafka keeps them).  Returns 0 or -1.
 */
int kp_config_build(struct kp_config *c, const struct kp_config_def *defs,
		    size_t ndefs, const struct kp_props *given,
		    void (*warn)(const char *key, void *arg), void *arg,
		    char *err, size_t errlen);
void kp_config_free(struct kp_config *c);

/* Typed getters; the key must be in the table (abort otherwise: a bug). */
int32_t kp_config_int(const struct kp_config *c, const char *key);
int64_t kp_config_long(const struct kp_config *c, const char *key);
double kp_config_double(const struct kp_config *c, const char *key);
bool kp_config_bool(const struct kp_config *c, const char *key);
/* The string value, or NULL when unset with no default. */
const char *kp_config_str(const struct kp_config *c, const char *key);
/* Whether the key was given explicitly (not just defaulted). */
bool kp_config_is_set(const struct kp_config *c, const char *key);
/* Value of any given key, known or not (e.g. to pass through). */
const char *kp_config_raw(const struct kp_config *c, const char *key);

/* Check one value against a definition; message in err on failure. */
int kp_config_validate(const struct kp_config_def *d, const char *value,
		       char *err, size_t errlen);
/* Print the table as "key (type, default X): doc" lines, grouped. */
void kp_config_print_help(FILE *f, const struct kp_config_def *defs,
			  size_t ndefs);

/*
 * A daemon's command line: "PROG [--override key=value]... CONFIG_FILE",
 * or --help, --help-config (the table), --version (these print and exit
 * 0).  Loads the file, applies the overrides, builds c; unknown keys warn
 * through kp_log; log.level, when given, sets the log level.  Returns 0,
 * 1 (unreadable file, invalid value: message on stderr) or 2 (usage).
 */
int kp_config_from_args(struct kp_config *c, const char *prog,
			const char *usage, int argc, char **argv,
			const struct kp_config_def *defs, size_t ndefs);

#endif /* KP_CONFIG_H */
