/*
 * serve: the daemon ("salesd serve"): one libuv loop that talks to systemd
 * (READY, STATUS, RELOADING, STOPPING, WATCHDOG), reloads the configuration
 * on SIGHUP without blocking the loop, and stops cleanly on SIGTERM/SIGINT.
 */
#ifndef SALESD_SERVE_H
#define SALESD_SERVE_H

#include "cli.h"
#include "base/config.h"
#include "engine/dag.h"
#include "base/log.h"

/*
 * Run the daemon until it is told to stop. cfg and dag were loaded from src
 * (both are taken over); src is kept for reloads. Returns the exit code.
 */
int serve_main(struct config *cfg, struct dag *dag, const struct config_source *src,
    struct logger *lg, const struct cli *cli);

#endif
