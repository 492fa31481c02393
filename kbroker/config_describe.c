/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_describe.c - DescribeConfigs' entries; see config_describe.h.
 */
#include <errno.h>
#include <string.h>

#include "broker.h"
#include "broker_config.h"
#include "config_describe.h"
#include "config_layers.h"
#include "kp_topic_config.h"

typedef struct kp_describe_configs_resp_describe_configs_synonym dc_synonym;

#define MAX_SYNONYMS 16

static kp_str arena_str(struct kp_arena *a, const char *s)
{
	return s == NULL ? KP_STR_NULL
			 : kp_str_c(kp_arena_strndup(a, s, strlen(s)));
}

/* DescribeConfigs' ConfigType (v3+); UNKNOWN (0) for a key without one. */
static int8_t config_type(const struct kp_config_def *d)
{
	if (d == NULL)
		return 0;
	switch (d->type) {
	case KP_CFG_BOOL:
		return 1;
	case KP_CFG_STRING:
		return 2;
	case KP_CFG_INT:
		return 3;
	case KP_CFG_SHORT:
		return 4;
	case KP_CFG_LONG:
		return 5;
	case KP_CFG_DOUBLE:
		return 6;
	case KP_CFG_LIST:
		return 7;
	case KP_CFG_CLASS:
		return 8;
	case KP_CFG_PASSWORD:
		return 9;
	}
	return 0;
}

static bool wanted(const char *key, const kp_str *keys, int32_t nkeys)
{
	if (nkeys < 0)
		return true;
	for (int32_t i = 0; i < nkeys; i++)
		if (kp_str_eqc(keys[i], key))
			return true;
	return false;
}

/* A key's documentation (v3+): its line and what the flags say. */
static kp_str documentation(struct kp_arena *a, const struct kp_config_def *d)
{
	const char *note;

	if (d == NULL)
		return KP_STR_NULL;
	note = kp_config_note(d);
	return kp_str_c(note != NULL ? kp_arena_sprintf(a, "%s. %s", d->doc, note)
				     : kp_arena_sprintf(a, "%s.", d->doc));
}

/*
 * Kafka's configSynonyms: the broker keys behind bkey (log.retention.ms,
 * .minutes, .hours...; a listener override and its base key) on each
 * layer that sets them, layer by layer from the highest precedence;
 * with_broker false leaves out /config/brokers/<id> (describing the
 * cluster default).  As Kafka, the entries before the first one of bkey
 * itself are dropped (a base key's value is no synonym of an override
 * described).  syn holds MAX_SYNONYMS entries.
 */
static void broker_synonyms(struct broker *b, struct kp_arena *a, const char *bkey,
			    bool with_broker, bool secret, dc_synonym *syn,
			    int32_t *ns)
{
	static const enum config_source layers[] = {
		CONFIG_SOURCE_DYNAMIC_BROKER, CONFIG_SOURCE_DYNAMIC_DEFAULT,
		CONFIG_SOURCE_STATIC_BROKER, CONFIG_SOURCE_DEFAULT,
	};
	const char *keys[3];
	int nk;
	int32_t first = *ns, skip;

	if (kp_config_is_listener_key(bkey, NULL)) {
		const struct kp_config_def *d = config_layers_type_def(bkey);

		keys[0] = bkey;
		keys[1] = d != NULL ? d->key : NULL;
		nk = d != NULL ? 2 : 1;
	} else {
		nk = config_layers_synonyms(bkey, keys);
	}
	for (size_t j = 0; j < sizeof(layers) / sizeof(layers[0]); j++) {
		if (layers[j] == CONFIG_SOURCE_DYNAMIC_BROKER && !with_broker)
			continue;
		for (int i = 0; i < nk && *ns < MAX_SYNONYMS; i++) {
			const char *v;
			char buf[256];

			if (layers[j] == CONFIG_SOURCE_DEFAULT) {
				const struct kp_config_def *d = config_layers_def(keys[i]);

				if (d == NULL || d->def == NULL)
					continue;
				v = d->def;
			} else {
				v = config_layers_get(b->layers, layers[j], keys[i], buf,
						      sizeof(buf));
				if (v == NULL)
					continue;
			}
			syn[*ns] = (dc_synonym){
				.name = arena_str(a, keys[i]),
				.value = secret ? KP_STR_NULL : arena_str(a, v),
				.source = (int8_t)layers[j] };
			(*ns)++;
		}
	}
	for (skip = first; skip < *ns && !kp_str_eqc(syn[skip].name, bkey); skip++)
		;
	if (skip > first) {
		memmove(syn + first, syn + skip, (size_t)(*ns - skip) * sizeof(*syn));
		*ns -= skip - first;
	}
}

int config_describe_topic(struct broker *b, struct kp_arena *a,
			  const struct kp_zk_entity_config *over, const kp_str *keys,
			  int32_t nkeys, bool synonyms, bool docs, config_entry **out,
			  int32_t *nout)
{
	config_entry *e;
	int32_t n = 0;

	e = kp_arena_calloc(a, kp_topic_nconfigs + 1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < kp_topic_nconfigs; i++) {
		const struct kp_topic_config *tc = &kp_topic_configs[i];
		const char *ov = kp_zk_config_get(over, tc->def.key);
		char buf[256];
		enum config_source src;
		const char *bv = config_layers_topic_default(b->layers, tc, buf,
							     sizeof(buf), &src);
		config_entry *x = &e[n];
		dc_synonym *syn;
		int32_t ns = 0;

		if (!wanted(tc->def.key, keys, nkeys))
			continue;
		kp_struct_init(&kp_describe_configs_resp_describe_configs_resource_result_desc, x);
		x->name = kp_str_c(tc->def.key);
		x->value = arena_str(a, ov != NULL ? ov : bv);
		x->config_source = ov != NULL ? CONFIG_SOURCE_TOPIC : (int8_t)src;
		/* v0's is_default: the value is Kafka's own default */
		x->is_default = ov == NULL && src == CONFIG_SOURCE_DEFAULT;
		x->read_only = false;
		x->config_type = config_type(&tc->def);
		x->documentation = docs ? documentation(a, &tc->def) : KP_STR_NULL;
		x->synonyms_count = 0;
		if (synonyms) {
			syn = kp_arena_calloc(a, MAX_SYNONYMS, sizeof(*syn));
			if (syn == NULL)
				return -ENOMEM;
			if (ov != NULL)
				syn[ns++] = (dc_synonym){ .name = x->name, .value = x->value,
							  .source = CONFIG_SOURCE_TOPIC };
			if (tc->broker_key != NULL)
				broker_synonyms(b, a, tc->broker_key, true, false, syn, &ns);
			x->synonyms = syn;
			x->synonyms_count = ns;
		}
		n++;
	}
	*out = e;
	*nout = n;
	return 0;
}

/*
 * One broker key's entry (per_broker false: the cluster default), as
 * Kafka's createBrokerConfigEntry: a key without a known type (a custom
 * one) is treated as sensitive; read_only unless Kafka updates the key
 * dynamically; the source is the first synonym's.
 */
static int broker_entry(struct broker *b, struct kp_arena *a, const char *key,
			bool per_broker, bool synonyms, bool docs, config_entry *x)
{
	const struct kp_config_def *d = config_layers_type_def(key);
	bool secret = d == NULL || d->type == KP_CFG_PASSWORD;
	enum config_source layer = CONFIG_SOURCE_DYNAMIC_DEFAULT;
	char buf[256];
	const char *v = per_broker
		? config_layers_value(b->layers, key, buf, sizeof(buf), &layer)
		: config_layers_get(b->layers, CONFIG_SOURCE_DYNAMIC_DEFAULT, key, buf,
				    sizeof(buf));
	dc_synonym *syn;
	int32_t ns = 0;

	kp_struct_init(&kp_describe_configs_resp_describe_configs_resource_result_desc, x);
	x->name = arena_str(a, key);
	x->value = secret ? KP_STR_NULL : arena_str(a, v);
	x->is_sensitive = secret;
	x->read_only = !config_layers_is_dynamic(key);
	x->config_type = config_type(d);
	x->documentation = docs ? documentation(a, config_layers_def(key)) : KP_STR_NULL;
	syn = kp_arena_calloc(a, MAX_SYNONYMS, sizeof(*syn));
	if (syn == NULL)
		return -ENOMEM;
	broker_synonyms(b, a, key, per_broker, secret, syn, &ns);
	x->config_source = ns > 0 ? syn[0].source : (int8_t)CONFIG_SOURCE_DEFAULT;
	x->is_default = x->config_source == CONFIG_SOURCE_DEFAULT;
	x->synonyms = synonyms ? syn : NULL;
	x->synonyms_count = synonyms ? ns : 0;
	return 0;
}

/* The names of a broker entity's entries, each once. */
struct key_list {
	struct kp_arena *arena;
	const char **v;
	size_t n, cap;
	bool oom;
};

static bool key_listed(const struct key_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], key) == 0)
			return true;
	return false;
}

static void key_add(const char *key, void *arg)
{
	struct key_list *l = arg;

	if (l->oom || key_listed(l, key))
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap * 2 + 16;
		const char **nv = kp_arena_calloc(l->arena, nc, sizeof(*nv));

		if (nv == NULL) {
			l->oom = true;
			return;
		}
		if (l->n > 0)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n] = kp_arena_strndup(l->arena, key, strlen(key));
	if (l->v[l->n] == NULL)
		l->oom = true;
	else
		l->n++;
}

/*
 * The keys of a broker entity as Kafka lists them: for a broker, every
 * key of its configuration (Kafka's originals and non-internal values:
 * the table, the dynamic-only keys that are set, and whatever the file
 * or the dynamic layers set besides, listener overrides and custom keys);
 * for the cluster default, what /config/brokers/<default> sets.
 */
static int broker_keys(struct broker *b, bool per_broker, struct key_list *l)
{
	if (per_broker) {
		for (size_t i = 0; i < broker_config_ndefs; i++) {
			const struct kp_config_def *d = &broker_config_defs[i];

			if (!(d->flags & KP_CFG_INTERNAL) || kp_config_is_set(&b->cfg, d->key))
				key_add(d->key, l);
		}
		for (size_t i = 0; i < b->cfg.props.count; i++)
			key_add(b->cfg.props.items[i].key, l);
		config_layers_foreach(b->layers, CONFIG_SOURCE_DYNAMIC_BROKER, key_add, l);
	}
	config_layers_foreach(b->layers, CONFIG_SOURCE_DYNAMIC_DEFAULT, key_add, l);
	return l->oom ? -ENOMEM : 0;
}

int config_describe_broker(struct broker *b, struct kp_arena *a, bool per_broker,
			   const kp_str *keys, int32_t nkeys, bool synonyms,
			   bool docs, config_entry **out, int32_t *nout)
{
	struct key_list l = { .arena = a };
	config_entry *e;
	int32_t n = 0;

	if (broker_keys(b, per_broker, &l) < 0)
		return -ENOMEM;
	e = kp_arena_calloc(a, l.n + 1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < l.n; i++) {
		if (!wanted(l.v[i], keys, nkeys))
			continue;
		if (broker_entry(b, a, l.v[i], per_broker, synonyms, docs, &e[n]) < 0)
			return -ENOMEM;
		n++;
	}
	*out = e;
	*nout = n;
	return 0;
}
