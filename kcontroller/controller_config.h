/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_config.h - the table of kcontroller's configuration keys.
 */
#ifndef CONTROLLER_CONFIG_H
#define CONTROLLER_CONFIG_H

#include <stddef.h>

#include "kp_config.h"

extern const struct kp_config_def controller_config_defs[];
extern const size_t controller_config_ndefs;

#endif /* CONTROLLER_CONFIG_H */
