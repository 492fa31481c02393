/*
 * broker_config.h - the table of kbroker's configuration keys.
 */
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#include <stddef.h>

#include "kp_config.h"

extern const struct kp_config_def broker_config_defs[];
extern const size_t broker_config_ndefs;

#endif /* BROKER_CONFIG_H */
