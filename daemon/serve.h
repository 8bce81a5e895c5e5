/*
 * serve: the daemon ("salesd serve"): one libuv loop that talks to systemd
 * (READY, STATUS, RELOADING, STOPPING, WATCHDOG), reloads the configuration
 * on SIGHUP without blocking the loop, and stops cleanly on SIGTERM/SIGINT.
 */
#ifndef SALESD_SERVE_H
#define SALESD_SERVE_H

#include "config.h"
#include "log.h"

/*
 * Run the daemon until it is told to stop. cfg is the configuration already
 * loaded from src (the reference is taken over); src is kept for reloads.
 * Returns the process exit code.
 */
int serve_main(struct config *cfg, const struct config_source *src, struct logger *lg,
    bool level_from_cli);

#endif
