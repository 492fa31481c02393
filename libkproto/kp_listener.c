/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_listener.c - listeners, the security protocol map and the
 * inter-broker listener, resolved as Kafka 2.8's KafkaConfig does; see
 * kp_listener.h.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kp_listener.h"
#include "kp_log.h"

static const char *const proto_names[] = {
	"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL",
};

int kp_secproto_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcasecmp(name, proto_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *kp_secproto_name(int proto)
{
	if (proto < 0 || proto >= (int)(sizeof(proto_names) / sizeof(proto_names[0])))
		return "UNKNOWN";
	return proto_names[proto];
}

static void upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Copy [s, e) trimmed of blanks into out (n bytes); -1 when too long. */
static int trimmed(const char *s, const char *e, char *out, size_t n)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - s) >= n)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

/* ------------------------------------------------------ protocol map */

int kp_protocol_map_parse(const char *text, struct kp_protocol_map *m,
			  char *err, size_t errlen)
{
	static const char key[] = "listener.security.protocol.map";
	const char *p = text;

	memset(m, 0, sizeof(*m));
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;	/* Kafka: an empty map */
	for (;;) {
		const char *e = strchr(p, ','), *colon;
		char name[KP_LISTENER_MAX], proto[KP_LISTENER_MAX];
		void *nn, *np;
		int sp;

		if (e == NULL)
			e = p + strlen(p);
		/* the last colon, as Kafka's parseCsvMap */
		colon = NULL;
		for (const char *q = p; q < e; q++)
			if (*q == ':')
				colon = q;
		if (colon == NULL) {
			kp_errf(err, errlen, "Error parsing configuration property '%s': "
			        "\"%.*s\" is not LISTENER_NAME:SECURITY_PROTOCOL", key,
			        (int)(e - p), p);
			goto fail;
		}
		if (trimmed(p, colon, name, sizeof(name)) < 0 ||
		    trimmed(colon + 1, e, proto, sizeof(proto)) < 0) {
			kp_errf(err, errlen, "Error parsing configuration property '%s': "
			        "\"%.*s\" is too long", key, (int)(e - p), p);
			goto fail;
		}
		sp = kp_secproto_parse(proto);
		if (sp < 0) {
			kp_errf(err, errlen, "Invalid security protocol `%s` defined in %s",
			        proto, key);
			goto fail;
		}
		upcase(name);
		nn = realloc(m->names, (m->n + 1) * sizeof(*m->names));
		if (nn == NULL)
			goto nomem;
		m->names = nn;
		np = realloc(m->protos, (m->n + 1) * sizeof(*m->protos));
		if (np == NULL)
			goto nomem;
		m->protos = np;
		/* a later entry of the same name wins, as in a Scala map */
		{
			size_t i;

			for (i = 0; i < m->n; i++)
				if (strcmp(m->names[i], name) == 0)
					break;
			memcpy(m->names[i], name, sizeof(name));
			m->protos[i] = sp;
			if (i == m->n)
				m->n++;
		}
		if (*e == '\0')
			return 0;
		p = e + 1;
	}
nomem:
	kp_errf(err, errlen, "out of memory");
fail:
	kp_protocol_map_free(m);
	return -1;
}

int kp_protocol_map_get(const struct kp_protocol_map *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->names[i], name) == 0)
			return m->protos[i];
	return -1;
}

void kp_protocol_map_free(struct kp_protocol_map *m)
{
	free(m->names);
	free(m->protos);
	memset(m, 0, sizeof(*m));
}

/* --------------------------------------------------------- listeners */

/*
 * One list (CoreUtils.listenerListToEndPoints): each endpoint's protocol
 * from the map, names distinct, and ports distinct (0 aside) when
 * distinct_ports.
 */
static int endpoints(const char *list, const struct kp_protocol_map *m,
		     bool distinct_ports, struct kp_endpoint **eps, int **protos,
		     size_t *n, char *err, size_t errlen)
{
	char why[512];
	struct kp_endpoint *v;
	size_t cnt;
	int *pr;

	*eps = NULL;
	*protos = NULL;
	*n = 0;
	if (kp_endpoints_parse(list, &v, &cnt, why, sizeof(why)) < 0) {
		if (strstr(why, "more than once") != NULL)
			kp_errf(err, errlen, "Each listener must have a different name, "
			        "listeners: %s", list);
		else
			kp_errf(err, errlen, "Error creating broker listeners from '%s': %s",
			        list, why);
		return -1;
	}
	pr = calloc(cnt + 1, sizeof(*pr));
	if (pr == NULL) {
		free(v);
		kp_errf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cnt; i++) {
		upcase(v[i].listener);
		pr[i] = kp_protocol_map_get(m, v[i].listener);
		if (pr[i] < 0) {
			kp_errf(err, errlen, "Error creating broker listeners from '%s': "
			        "No security protocol defined for listener %s",
			        list, v[i].listener);
			goto fail;
		}
	}
	/* names again, now that case no longer tells them apart */
	for (size_t i = 0; i < cnt; i++)
		for (size_t j = 0; j < i; j++) {
			if (strcmp(v[i].listener, v[j].listener) == 0) {
				kp_errf(err, errlen, "Each listener must have a different "
				        "name, listeners: %s", list);
				goto fail;
			}
			if (distinct_ports && v[i].port != 0 && v[i].port == v[j].port) {
				kp_errf(err, errlen, "Each listener must have a different "
				        "port, listeners: %s", list);
				goto fail;
			}
		}
	*eps = v;
	*protos = pr;
	*n = cnt;
	return 0;
fail:
	free(v);
	free(pr);
	return -1;
}

/* "A,B,C" of the names of eps, into buf. */
static const char *names_of(const struct kp_endpoint *eps, size_t n, char *buf,
			    size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%s", i ? "," : "", eps[i].listener);

		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

int kp_listeners_resolve(const struct kp_config *c, bool check_inter,
			 struct kp_listeners *l, char *err, size_t errlen)
{
	const char *lst = kp_config_str(c, "listeners");
	const char *adv = kp_config_str(c, "advertised.listeners");
	const char *map = kp_config_str(c, "listener.security.protocol.map");
	const char *iname = kp_config_str(c, "inter.broker.listener.name");
	char names1[512], names2[512];

	memset(l, 0, sizeof(*l));
	if (kp_protocol_map_parse(map != NULL ? map : "", &l->map, err, errlen) < 0)
		return -1;
	if (endpoints(lst != NULL ? lst : "", &l->map, true, &l->bind, &l->bind_proto,
		      &l->nbind, err, errlen) < 0)
		goto fail;
	if (l->nbind == 0) {
		kp_errf(err, errlen, "listeners is empty");
		goto fail;
	}
	if (endpoints(adv != NULL ? adv : lst, &l->map, false, &l->adv, &l->adv_proto,
		      &l->nadv, err, errlen) < 0)
		goto fail;
	/* KafkaConfig.getInterBrokerListenerNameAndSecurityProtocol */
	if (iname != NULL) {
		if (kp_config_is_set(c, "security.inter.broker.protocol")) {
			kp_errf(err, errlen, "Only one of inter.broker.listener.name and "
			        "security.inter.broker.protocol should be set.");
			goto fail;
		}
		if (trimmed(iname, iname + strlen(iname), l->inter_name,
			    sizeof(l->inter_name)) < 0) {
			kp_errf(err, errlen, "inter.broker.listener.name is too long");
			goto fail;
		}
		upcase(l->inter_name);
		l->inter_proto = kp_protocol_map_get(&l->map, l->inter_name);
		if (l->inter_proto < 0) {
			kp_errf(err, errlen, "Listener with name %s defined in "
			        "inter.broker.listener.name not found in "
			        "listener.security.protocol.map.", l->inter_name);
			goto fail;
		}
	} else {
		const char *p = kp_config_str(c, "security.inter.broker.protocol");

		l->inter_proto = kp_secproto_parse(p != NULL ? p : "PLAINTEXT");
		if (l->inter_proto < 0) {
			kp_errf(err, errlen, "Invalid security protocol `%s` defined in "
			        "security.inter.broker.protocol", p);
			goto fail;
		}
		snprintf(l->inter_name, sizeof(l->inter_name), "%s",
			 kp_secproto_name(l->inter_proto));
	}
	if (!check_inter)
		return 0;
	/* KafkaConfig.validateValues */
	if (kp_listeners_advertised(l, l->inter_name) == NULL) {
		kp_errf(err, errlen, "inter.broker.listener.name must be a listener name "
		        "defined in advertised.listeners. The valid options based on "
		        "currently configured listeners are %s",
		        names_of(l->adv, l->nadv, names1, sizeof(names1)));
		goto fail;
	}
	for (size_t i = 0; i < l->nadv; i++) {
		size_t j;

		for (j = 0; j < l->nbind; j++)
			if (strcmp(l->adv[i].listener, l->bind[j].listener) == 0)
				break;
		if (j == l->nbind) {
			kp_errf(err, errlen, "advertised.listeners listener names must be "
			        "equal to or a subset of the ones defined in listeners. "
			        "Found %s. The valid options based on the current "
			        "configuration are %s",
			        names_of(l->adv, l->nadv, names1, sizeof(names1)),
			        names_of(l->bind, l->nbind, names2, sizeof(names2)));
			goto fail;
		}
	}
	return 0;
fail:
	kp_listeners_free(l);
	return -1;
}

void kp_listeners_free(struct kp_listeners *l)
{
	free(l->bind);
	free(l->bind_proto);
	free(l->adv);
	free(l->adv_proto);
	kp_protocol_map_free(&l->map);
	memset(l, 0, sizeof(*l));
}

const struct kp_endpoint *kp_listeners_advertised(const struct kp_listeners *l,
						  const char *name)
{
	for (size_t i = 0; i < l->nadv; i++)
		if (strcmp(l->adv[i].listener, name) == 0)
			return &l->adv[i];
	return NULL;
}

const char *kp_listener_str(const struct kp_config *c, const char *listener,
			    const char *key)
{
	char k[256];
	const char *v;
	int n = snprintf(k, sizeof(k), "listener.name.%s.", listener);

	if (n > 0 && (size_t)n < sizeof(k)) {
		for (int i = 14; i < n; i++)
			k[i] = (char)tolower((unsigned char)k[i]);
		snprintf(k + n, sizeof(k) - (size_t)n, "%s", key);
		v = kp_config_raw(c, k);
		if (v != NULL)
			return v;
	}
	return kp_config_str(c, key);
}
