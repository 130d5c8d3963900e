/*
 * Benchmark 9's probe app (bench/lin/probe): the process's CPU time and its environment, through
 * XS FFI (signatures in manifest.json). Not part of the firmware.
 */
#include <stdlib.h>
#include <sys/resource.h>

/* User + system CPU time of the whole mcsim process, in seconds (microsecond resolution). */
double bench_cpu_seconds(void)
{
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage))
		return -1;
	return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* An environment variable, "" when it is not set. */
const char *bench_env(char *name)
{
	const char *value = getenv(name);
	return value ? value : "";
}
