/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_sasl.h - the pure parts of SASL as Kafka 2.8 configures and speaks
 * it: a JAAS configuration line (sasl.jaas.config) parsed for its login
 * module and options, and the PLAIN mechanism's server side (RFC 4616)
 * checked against PlainLoginModule's user_<name>="<password>" options,
 * and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677): credentials as
 * Kafka derives them and stores them in ZooKeeper (ScramCredentialUtils'
 * "salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>"), and the
 * server side of the exchange, with Kafka's ScramSaslServer's checks.
 */
#ifndef KP_SASL_H
#define KP_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One login module entry: "Class flag key=value ... ;". */
struct kp_jaas {
	char *module;			/* the class name */
	char *flag;			/* required, requisite, ... */
	char **keys, **values;
	size_t n;
};

/* 0, or -1 with a message; a second entry after the first ';' is an
 * error (Kafka wants exactly one per mechanism). */
int kp_jaas_parse(const char *text, struct kp_jaas *j, char *err, size_t errlen);
/* An option's value, or NULL. */
const char *kp_jaas_get(const struct kp_jaas *j, const char *key);
void kp_jaas_free(struct kp_jaas *j);

/*
 * A PLAIN client message, authzid NUL user NUL password, checked against
 * j's user_<user> options.  0 with the user in user (userlen bytes), or
 * -1 with Kafka's message in err (which Kafka sends back to the client).
 */
int kp_sasl_plain_check(const uint8_t *tok, size_t len, const struct kp_jaas *j,
			char *user, size_t userlen, char *err, size_t errlen);

/* ------------------------------------------------------------ SCRAM */

/* Kafka's ScramMechanism type codes (KIP-554), 0 is UNKNOWN. */
enum kp_scram_mech {
	KP_SCRAM_SHA_256 = 1,
	KP_SCRAM_SHA_512 = 2,
};

#define KP_SCRAM_MAX_HASH 64		/* SHA-512 */
#define KP_SCRAM_MAX_SALT 128
#define KP_SCRAM_MIN_ITERATIONS 4096	/* both mechanisms, as Kafka */
#define KP_SCRAM_MAX_ITERATIONS 16384	/* Kafka's upper bound */

struct kp_scram_cred {
	uint8_t salt[KP_SCRAM_MAX_SALT];
	size_t salt_len;
	uint8_t stored_key[KP_SCRAM_MAX_HASH];
	uint8_t server_key[KP_SCRAM_MAX_HASH];
	size_t key_len;			/* the hash's size */
	int32_t iterations;
};

/* "SCRAM-SHA-256" / "SCRAM-SHA-512", or NULL. */
const char *kp_scram_mech_name(int mech);
/* The mechanism named (len bytes), or 0. */
int kp_scram_mech_parse(const char *name, size_t len);
/* The hash's size in bytes, 0 for an unknown mechanism. */
size_t kp_scram_hash_len(int mech);

/* n random bytes (a salt).  0 or -1. */
int kp_scram_random(uint8_t *buf, size_t n);
/* SaltedPassword = Hi(password, salt, iterations).  0 or -1. */
int kp_scram_salt_password(int mech, const char *pw, size_t pwlen, const uint8_t *salt,
			   size_t saltlen, int32_t iterations, uint8_t *out);
/* A credential from a salted password (as AlterUserScramCredentials
 * carries it).  0 or -1 (bad mechanism, sizes). */
int kp_scram_cred_from_salted(int mech, const uint8_t *salted, size_t saltedlen,
			      const uint8_t *salt, size_t saltlen, int32_t iterations,
			      struct kp_scram_cred *c);
/* ScramCredentialUtils' string form; its length, or -1 if out is short. */
int kp_scram_cred_format(const struct kp_scram_cred *c, char *out, size_t outlen);
/* And back.  0, or -1 with a message. */
int kp_scram_cred_parse(int mech, const char *text, struct kp_scram_cred *c, char *err,
			size_t errlen);

/* Standard base64 with padding: the length written (NUL added), or -1. */
int kp_base64_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
/* The length decoded, or -1 (bad characters, padding, room). */
int kp_base64_decode(const char *in, size_t len, uint8_t *out, size_t outlen);

/*
 * The server side of one SCRAM exchange: client-first -> server-first,
 * client-final -> server-final.  Each step answers the length of the
 * message to send, written to out (NUL-terminated), or -1 with err set to
 * what Kafka sends back to the client (KP_SCRAM_FAILED and the mechanism
 * for what Kafka reports as invalid credentials) and why holding the
 * detail for the log.
 */
#define KP_SCRAM_FAILED "Authentication failed during authentication due to " \
	"invalid credentials with SASL mechanism "

enum kp_scram_state {
	KP_SCRAM_WANT_FIRST,
	KP_SCRAM_WANT_FINAL,
	KP_SCRAM_DONE,
	KP_SCRAM_FAILED_STATE,
};

struct kp_scram_server {
	int mech;
	enum kp_scram_state state;
	char user[256];
	struct kp_scram_cred cred;
	char gs2[300];			/* "n,[a=...]," */
	char client_first_bare[1024];
	char server_first[1024];
	char nonce[512];		/* client's + ours */
};

/* Looks a user's credential up: 0, or -1 when there is none. */
typedef int (*kp_scram_lookup_fn)(void *arg, int mech, const char *user,
				  struct kp_scram_cred *out);

void kp_scram_server_init(struct kp_scram_server *s, int mech);
/* snonce: the server's nonce, NULL for a random one (tests pass one). */
int kp_scram_server_first(struct kp_scram_server *s, const uint8_t *msg, size_t len,
			  kp_scram_lookup_fn lookup, void *arg, const char *snonce,
			  char *out, size_t outlen, char *err, size_t errlen, char *why,
			  size_t whylen);
int kp_scram_server_final(struct kp_scram_server *s, const uint8_t *msg, size_t len,
			  char *out, size_t outlen, char *err, size_t errlen, char *why,
			  size_t whylen);
/* Forget the keys. */
void kp_scram_server_clear(struct kp_scram_server *s);

/*
 * The client side (skald's own connections: replica fetchers).  first
 * writes client-first; final reads server-first (its nonce must extend
 * ours; at least KP_SCRAM_MIN_ITERATIONS) and writes client-final;
 * verify checks server-final's signature.  Each: the length written, or
 * -1 with a message.
 */
struct kp_scram_client {
	int mech;
	char pw[256];
	char client_first_bare[600];
	char cnonce[64];
	uint8_t server_sig[KP_SCRAM_MAX_HASH];
};

int kp_scram_client_first(struct kp_scram_client *c, int mech, const char *user,
			  const char *pw, const char *cnonce, char *out, size_t outlen,
			  char *err, size_t errlen);
int kp_scram_client_final(struct kp_scram_client *c, const uint8_t *sfirst, size_t len,
			  char *out, size_t outlen, char *err, size_t errlen);
int kp_scram_client_verify(struct kp_scram_client *c, const uint8_t *sfinal, size_t len,
			   char *err, size_t errlen);

#endif /* KP_SASL_H */
