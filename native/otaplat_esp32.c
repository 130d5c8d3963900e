/*
 * Boot control for the ESP32 build, called from device/boot-control.ts through XS FFI ("mc/ffi").
 * FFI passes only scalars, strings and buffers, so the functions that take or return an
 * esp_partition_t* are wrapped here; the signatures are listed in manifest.json "ffi.functions".
 */
#include <stdint.h>
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "esp_efuse.h"

/* Return values of otaplat_running_state besides esp_ota_img_states_t 0..4. */
#define OTAPLAT_STATE_UNDEFINED (-1)	/* ESP_OTA_IMG_UNDEFINED: flashed over serial, never set by an OTA */
#define OTAPLAT_STATE_UNKNOWN (-2)		/* no running partition, or a partition without OTA state (factory) */

int32_t otaplat_running_state(void)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	esp_ota_img_states_t state;
	if (!running)
		return OTAPLAT_STATE_UNKNOWN;
	if (ESP_OK != esp_ota_get_state_partition(running, &state))
		return OTAPLAT_STATE_UNKNOWN;
	if (ESP_OTA_IMG_UNDEFINED == state)
		return OTAPLAT_STATE_UNDEFINED;
	return (int32_t)state;
}

int32_t otaplat_mark_valid(void)
{
	return (int32_t)esp_ota_mark_app_valid_cancel_rollback();
}

/* Returns only when the rollback was refused (no other valid image); the esp_err_t says why. */
int32_t otaplat_rollback(void)
{
	return (int32_t)esp_ota_mark_app_invalid_rollback_and_reboot();
}

void otaplat_restart(void)
{
	esp_restart();
}

uint32_t otaplat_secure_version(void)
{
	return esp_efuse_read_secure_version();
}
