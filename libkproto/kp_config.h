/* SPDX-License-Identifier: Apache-2.0 */
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
	KP_CFG_SHORT,		/* 16-bit signed */
	KP_CFG_CLASS,		/* a Java class name (Kafka loads it; we keep it) */
};

/*
 * Flags of a key.  The first two say what the program does with a value,
 * and everything that documents a key (--help-config, DescribeConfigs'
 * documentation, the section 5 page, etc/) says it from them.
 */
enum {
	/* Kafka's key, accepted so a Kafka configuration loads unchanged
	 * (and, where Kafka allows it, altered at run time), not acted on */
	KP_CFG_INERT = 1 << 0,
	/* read from the properties file; Kafka also applies a dynamic
	 * update, which is accepted and stored here but not acted on */
	KP_CFG_DYN_INERT = 1 << 1,
	/* internal in Kafka 2.8 (KRaft mode): accepted, never described */
	KP_CFG_INTERNAL = 1 << 2,
};

/* What the notes say, word for word (the man page and etc/ hold them). */
#define KP_CFG_INERT_NOTE \
	"Accepted so that a Kafka configuration loads unchanged; not acted on yet."
#define KP_CFG_DYN_INERT_NOTE \
	"A dynamic update is accepted and stored, as Kafka does, but not acted on: the value read at start stays in force."

/*
 * Kafka 2.8's dynamic update mode of a broker key (DynamicBrokerConfig):
 * whether AlterConfigs may set it in /config/brokers/<id> and
 * /config/brokers/<default>.
 */
enum kp_config_dyn {
	KP_DYN_READ_ONLY = 0,	/* "Cannot update these configs dynamically" */
	KP_DYN_CLUSTER,		/* per broker or as the cluster default */
	KP_DYN_PER_BROKER,	/* per broker only */
	KP_DYN_LISTENER,	/* per broker, only as listener.name.<l>.<key> */
};

struct kp_config_def {
	const char *key;
	enum kp_config_type type;
	const char *def;	/* default as text; NULL: no default (required or unset) */
	int64_t min, max;	/* bounds for INT/SHORT/LONG when min < max */
	const char *valid;	/* for STRING and LIST items: "a|b|c" allowed values, or NULL */
	const char *doc;	/* one line */
	const char *group;	/* documentation group, e.g. "Log" */
	unsigned flags;		/* KP_CFG_INERT, ... */
	enum kp_config_dyn dyn;
	/* a further check of the value (Kafka's custom validators), or NULL;
	 * message in err as kp_config_validate words it */
	int (*check)(const struct kp_config_def *d, const char *value, char *err,
		     size_t errlen);
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
	const struct kp_config_def *others;	/* known keys not read, or NULL */
	size_t nothers;
	const char **values;	/* per def: the value text, or NULL if unset */
	struct kp_props props;	/* everything given, including unknown keys */
};

/*
 * Build a configuration from a table and given properties (file contents
 * plus --override pairs, already merged).  Every given value of a known key
 * is validated; an invalid one makes this fail with a message naming the
 * key, the value and what is expected (Kafka's ConfigException wording).
 * A key is known when the table has it, when it is a listener override
 * (listener.name.<l>.<key>) of a table key, or when the second table
 * (others, may be NULL) has it: keys of Kafka's this program does not
 * read.  Unknown keys are reported through warn(key) (they are kept, as
 * Kafka keeps them).  Returns 0 or -1.
 */
int kp_config_build(struct kp_config *c, const struct kp_config_def *defs,
		    size_t ndefs, const struct kp_props *given,
		    void (*warn)(const char *key, void *arg), void *arg,
		    char *err, size_t errlen);
int kp_config_build2(struct kp_config *c, const struct kp_config_def *defs,
		     size_t ndefs, const struct kp_config_def *others,
		     size_t nothers, const struct kp_props *given,
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

/*
 * Check one value against a definition, as Kafka's ConfigDef parses and
 * validates it; on failure err holds Kafka's message, "Invalid value V
 * for configuration K: why".
 */
int kp_config_validate(const struct kp_config_def *d, const char *value,
		       char *err, size_t errlen);
/* The definition of key in a table, or NULL. */
const struct kp_config_def *kp_config_find(const struct kp_config_def *defs,
					   size_t ndefs, const char *key);
/*
 * A listener override, listener.name.<listener>.<key> (Kafka's
 * ListenerConfigRegex): the base key's definition in defs (for the SASL
 * mechanism keys written listener.name.<l>.<mechanism>.<key>, that key's),
 * or NULL when key is not an override of a key of defs.  *base, when not
 * NULL, gets the text after the listener name.
 */
bool kp_config_is_listener_key(const char *key, const char **base);
const struct kp_config_def *kp_config_listener_base(const struct kp_config_def *defs,
						    size_t ndefs, const char *key);
/* The flag note of a definition (KP_CFG_INERT_NOTE, ...), or NULL. */
const char *kp_config_note(const struct kp_config_def *d);
/* Kafka's name of a type ("int", "long", "boolean", "password"...). */
const char *kp_config_type_name(enum kp_config_type t);
/* Kafka's name of a dynamic update mode ("read-only", "per-broker"...). */
const char *kp_config_dyn_name(enum kp_config_dyn m);
/*
 * The keys given to c that are accepted but not acted on (KP_CFG_INERT in
 * the table, overrides of listeners, keys of the second table), as one
 * comma-separated list in buf (the first that fit, then " and N more").
 * Returns how many there are.
 */
size_t kp_config_inert_given(const struct kp_config *c, char *buf, size_t n);
/* Print the table as "key (type, default X)" lines with doc and notes, grouped. */
void kp_config_print_help(FILE *f, const struct kp_config_def *defs,
			  size_t ndefs);

/*
 * A daemon's command line: "PROG [--override key=value]... CONFIG_FILE",
 * or --help, --help-config (the table), --version (these print and exit
 * 0).  Loads the file, applies the overrides, builds c; unknown keys warn
 * through kp_log, and the keys given that are accepted but not acted on
 * are named in one info line; log.level, when given, sets the log level.
 * others (may be NULL): further keys accepted without a warning, as in
 * kp_config_build2.  Returns 0, 1 (unreadable file, invalid value:
 * message on stderr) or 2 (usage).
 */
int kp_config_from_args(struct kp_config *c, const char *prog,
			const char *usage, int argc, char **argv,
			const struct kp_config_def *defs, size_t ndefs,
			const struct kp_config_def *others, size_t nothers);

#endif /* KP_CONFIG_H */
