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
		for (size_t i = 0; i < config_njobs(c); i++) {
			char section[64];

			snprintf(section, sizeof section, "job %s", config_job(c, i));
			(void)config_string(c, section, "kind");
			(void)config_list(c, section, "after", NULL);
		}
		config_free(c);
	}
	free(cause);
	return 0;
}
