/*
 * fuzz_config: libFuzzer harness for the configuration parser. Each input is
 * written as a configuration file and loaded; the parser must never crash,
 * leak or read out of bounds, whatever the bytes. A loaded configuration is
 * queried once for every job, to walk the parsed values too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct config_source src = { 0 };
	struct config *c = NULL;
	char *cause = NULL;
	FILE *fp;

	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/fuzz-config-%d.conf", (int)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	src.path = path;
	if (config_load(&c, &src, &cause) == 0) {
		/* Touch what the DAG reads first, so ASan sees every job's values. */
		for (size_t i = 0; i < c->njobs; i++) {
			struct config_origin o;

			(void)strlen(c->jobs[i].kind);
			for (size_t k = 0; k < c->jobs[i].after.n; k++)
				(void)strlen(c->jobs[i].after.v[k]);
			(void)config_origin(c, &c->jobs[i].after, &o);
		}
		config_free(c);
	}
	free(cause);
	return 0;
}
