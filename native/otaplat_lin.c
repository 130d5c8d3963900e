/*
 * Stand-in of native/otaplat_esp32.c for the Moddable lin simulator: there is no bootloader, so
 * the running image is always valid, rollback and restart end the process (a supervisor, for
 * example the host simulator, starts it again) and the eFuse secure version is never burned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int32_t otaplat_running_state(void)
{
	return 2;	/* ESP_OTA_IMG_VALID */
}

int32_t otaplat_mark_valid(void)
{
	return 0;	/* ESP_OK */
}

int32_t otaplat_rollback(void)
{
	fprintf(stdout, "otaplat: rollback requested, exiting\n");
	fflush(stdout);
	exit(3);
	return 0;
}

void otaplat_restart(void)
{
	fprintf(stdout, "otaplat: restart requested, exiting\n");
	fflush(stdout);
	exit(0);
}

uint32_t otaplat_secure_version(void)
{
	return 0;
}
