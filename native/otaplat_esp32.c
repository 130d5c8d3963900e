/*
 * Boot control, OTA writes and factory credentials for the ESP32 build, called from device/ through
 * XS FFI ("mc/ffi"). FFI passes only scalars, strings and buffers, so the functions that take or
 * return an esp_partition_t* or an esp_ota_handle_t are wrapped here and the handle stays in C;
 * the signatures are listed in manifest.json (platforms.esp32.ffi.functions).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/*
 * Headers by their path under ESP-IDF's components/, as the SDK's own modules include them
 * (modules/files/flash/esp32/flash.c, modules/files/preference/esp32/modPreference.c): the include
 * list of $(MODDABLE)/tools/mcconfig/make.esp32.mk has components/ itself but not app_update/include
 * or nvs_flash/include. esp_partition.h and esp_system.h are on that list. scripts/check-idf.sh
 * compiles this file with that list (docs/device.md, section 8).
 */
#include "app_update/include/esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "nvs_flash/include/nvs.h"
#include "nvs_flash/include/nvs_flash.h"
#include "sdkconfig.h"

/*
 * From components/efuse/include/esp_efuse.h (ESP-IDF v6.0), declared here: that header includes
 * esp_efuse_chip.h from components/efuse/<target>/include, which no path of the SDK's include list
 * reaches, so it cannot be included in a build that uses that list. scripts/check-idf.sh compiles
 * this file a second time with esp_efuse.h force-included, so a declaration that no longer matches
 * ESP-IDF's is a "conflicting types" error there.
 */
uint32_t esp_efuse_read_secure_version(void);

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

/*
 * OTA writes with resume. esp_ota_resume (esp_ota_ops.h of the ESP-IDF v6.0 that Moddable 8.2.3
 * builds with) reopens the next update partition keeping the first image_offset bytes; erase_size
 * OTA_WITH_SEQUENTIAL_WRITES erases sector by sector as the writes advance, as esp_ota_begin does
 * with the same argument. One update at a time: the handle lives here.
 */
static esp_ota_handle_t gOtaHandle;
static const esp_partition_t *gOtaPartition;

/* Size of the next update partition (esp_ota_get_next_update_partition), or a negative esp_err_t. */
int32_t otaplat_ota_capacity(void)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	if (!next)
		return -(int32_t)ESP_ERR_NOT_FOUND;
	return (int32_t)next->size;
}

/* Opens the next update partition at resume_at (0 = esp_ota_begin, else esp_ota_resume). Returns ESP_OK or the esp_err_t. */
int32_t otaplat_ota_begin(uint32_t resume_at)
{
	esp_err_t err;
	if (gOtaHandle) {
		esp_ota_abort(gOtaHandle);
		gOtaHandle = 0;
	}
	gOtaPartition = esp_ota_get_next_update_partition(NULL);
	if (!gOtaPartition)
		return (int32_t)ESP_ERR_NOT_FOUND;
	if (resume_at)
		err = esp_ota_resume(gOtaPartition, OTA_WITH_SEQUENTIAL_WRITES, resume_at, &gOtaHandle);
	else
		err = esp_ota_begin(gOtaPartition, OTA_WITH_SEQUENTIAL_WRITES, &gOtaHandle);
	if (ESP_OK != err)
		gOtaHandle = 0;
	return (int32_t)err;
}

int32_t otaplat_ota_write(uint8_t *buffer, uint32_t offset, uint32_t length)
{
	if (!gOtaHandle)
		return (int32_t)ESP_ERR_INVALID_STATE;
	return (int32_t)esp_ota_write(gOtaHandle, buffer + offset, length);
}

/* esp_ota_end (verifies the image) then esp_ota_set_boot_partition. */
int32_t otaplat_ota_end(void)
{
	esp_err_t err;
	if (!gOtaHandle)
		return (int32_t)ESP_ERR_INVALID_STATE;
	err = esp_ota_end(gOtaHandle);
	gOtaHandle = 0;
	if (ESP_OK != err)
		return (int32_t)err;
	return (int32_t)esp_ota_set_boot_partition(gOtaPartition);
}

void otaplat_ota_abort(void)
{
	if (gOtaHandle)
		esp_ota_abort(gOtaHandle);
	gOtaHandle = 0;
}

/*
 * Reads back bytes of the slot being written (esp_partition_read, which decrypts what esp_ota_write
 * encrypted when flash encryption is on), so the MD5 of a resumed image covers all of it. Only
 * while an update is open: the slot is the one esp_ota_begin / esp_ota_resume opened.
 */
int32_t otaplat_ota_read(uint32_t at, uint8_t *buffer, uint32_t offset, uint32_t length)
{
	if (!gOtaHandle || !gOtaPartition)
		return (int32_t)ESP_ERR_INVALID_STATE;
	return (int32_t)esp_partition_read(gOtaPartition, at, buffer + offset, length);
}

/*
 * esp_ota_get_state_partition of the next update partition (esp_ota_get_next_update_partition(NULL)):
 * after the previous image booted again with an update pending, ESP_OTA_IMG_INVALID / _ABORTED
 * say the new image was rolled back, no otadata entry for the slot (ESP_ERR_NOT_FOUND) says the
 * switch was interrupted before it ever ran. Same codes as otaplat_running_state.
 */
int32_t otaplat_update_slot_state(void)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	esp_ota_img_states_t state;
	if (!next)
		return OTAPLAT_STATE_UNKNOWN;
	if (ESP_OK != esp_ota_get_state_partition(next, &state))
		return OTAPLAT_STATE_UNKNOWN;
	if (ESP_OTA_IMG_UNDEFINED == state)
		return OTAPLAT_STATE_UNDEFINED;
	return (int32_t)state;
}

/*
 * The claim data of RainMaker's fctry partition (namespace rmaker_creds), as esp_rmaker_factory
 * reads it: nvs_flash_init_partition + nvs_open_from_partition, blobs (or strings) by key.
 *
 * A value written as a string (nvs_partition_gen "string" encoding) is read with nvs_get_str: in
 * ESP-IDF v6.0 nvs_get_blob of a string-typed key returns ESP_ERR_NVS_NOT_FOUND, not
 * ESP_ERR_NVS_TYPE_MISMATCH (Page::findItem reports the type mismatch, but Storage::findItem in
 * components/nvs_flash/src/nvs_storage.cpp turns every page's miss into NOT_FOUND), so both codes
 * lead to the string read; an absent key is NOT_FOUND from nvs_get_str too. docs/device.md, section 3.
 */
#define OTAPLAT_TRY_STRING(err) ((ESP_ERR_NVS_NOT_FOUND == (err)) || (ESP_ERR_NVS_TYPE_MISMATCH == (err)))

static int gFctryReady;

static esp_err_t fctryOpen(nvs_handle_t *handle)
{
	if (!gFctryReady) {
		esp_err_t err = nvs_flash_init_partition("fctry");
		if (ESP_OK != err)
			return err;
		gFctryReady = 1;
	}
	return nvs_open_from_partition("fctry", "rmaker_creds", NVS_READONLY, handle);
}

/* Size in bytes of a value (a blob, or a string without its NUL), or a negative esp_err_t (-ESP_ERR_NVS_NOT_FOUND when absent). */
int32_t otaplat_fctry_size(char *key)
{
	nvs_handle_t handle;
	size_t size = 0;
	esp_err_t err = fctryOpen(&handle);
	if (ESP_OK != err)
		return -(int32_t)err;
	err = nvs_get_blob(handle, key, NULL, &size);
	if (OTAPLAT_TRY_STRING(err)) {
		err = nvs_get_str(handle, key, NULL, &size);
		if ((ESP_OK == err) && size)
			size -= 1;
	}
	nvs_close(handle);
	return (ESP_OK == err) ? (int32_t)size : -(int32_t)err;
}

/* Reads a value into buffer[offset, offset + length). Returns the number of bytes read or a negative esp_err_t. */
int32_t otaplat_fctry_read(char *key, uint8_t *buffer, uint32_t offset, uint32_t length)
{
	nvs_handle_t handle;
	size_t size = length;
	esp_err_t err = fctryOpen(&handle);
	if (ESP_OK != err)
		return -(int32_t)err;
	err = nvs_get_blob(handle, key, buffer + offset, &size);
	if (OTAPLAT_TRY_STRING(err)) {
		char *text = NULL;
		size_t textSize = 0;
		err = nvs_get_str(handle, key, NULL, &textSize);
		if ((ESP_OK == err) && (textSize <= length + 1)) {
			text = (char *)malloc(textSize);
			if (!text)
				err = ESP_ERR_NO_MEM;
			else {
				err = nvs_get_str(handle, key, text, &textSize);
				if (ESP_OK == err) {
					size = textSize ? textSize - 1 : 0;
					memcpy(buffer + offset, text, size);
				}
				free(text);
			}
		}
		else if (ESP_OK == err)
			err = ESP_ERR_NVS_INVALID_LENGTH;
	}
	nvs_close(handle);
	return (ESP_OK == err) ? (int32_t)size : -(int32_t)err;
}

/* The label of the partition the running app was booted from ("ota_0"), for `ota status`. */
const char *otaplat_running_label(void)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	return (NULL != running) ? running->label : "";
}

/* The IDF target of the build (CONFIG_IDF_TARGET: "esp32", "esp32s3", ...), the otafetch `platform`. */
const char *otaplat_idf_target(void)
{
	return CONFIG_IDF_TARGET;
}

/*
 * NVS integers of a type Moddable's preference module has no call for (it reads and writes u8, i32,
 * str and blob): the u16 in which esp-rainmaker keeps its resume offset ("ota_written", KiB,
 * docs/protocol.md §5.15), in the default "nvs" partition, as the preference module and esp-rainmaker.
 */
/* The value (0..65535), or a negative esp_err_t (-ESP_ERR_NVS_NOT_FOUND when absent, -ESP_ERR_NVS_TYPE_MISMATCH for another type). */
int32_t otaplat_nvs_get_u16(char *space, char *key)
{
	nvs_handle_t handle;
	uint16_t value = 0;
	esp_err_t err = nvs_open(space, NVS_READONLY, &handle);
	if (ESP_OK != err)
		return -(int32_t)err;
	err = nvs_get_u16(handle, key, &value);
	nvs_close(handle);
	return (ESP_OK == err) ? (int32_t)value : -(int32_t)err;
}

/* Writes and commits a u16 (replacing an entry of another type). Returns 0 or a negative esp_err_t. */
int32_t otaplat_nvs_set_u16(char *space, char *key, uint32_t value)
{
	nvs_handle_t handle;
	esp_err_t err = nvs_open(space, NVS_READWRITE, &handle);
	if (ESP_OK != err)
		return -(int32_t)err;
	err = nvs_set_u16(handle, key, (uint16_t)value);
	if (ESP_OK == err)
		err = nvs_commit(handle);
	nvs_close(handle);
	return -(int32_t)err;
}
