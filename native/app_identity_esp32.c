/*
 * The firmware identity of the esp32 build (docs/protocol.md §7.5) and the chip revision the header
 * checks compare with an image's range (docs/protocol.md §5.12).
 *
 * ESP-IDF's app linker script places the section .rodata_custom_desc right after esp_app_desc_t at
 * the start of the first (DROM) segment, so the identity sits at file offset 24 + 8 + 256 = 288 of
 * every image of this firmware, where the node reads it from the first bytes of an incoming image
 * (ota/image.ts parseIdentity). The name is manifest.json defines.firmware.name
 * (MODDEF_FIRMWARE_NAME in mc.defines.h), which scripts/firmware-identity.ts keeps equal to
 * package.json's name. The section is not KEEP()ed by the linker script: otaplat_firmware_name
 * refers to the struct, so --gc-sections keeps it (ESP-IDF's documented alternative is
 * `-u custom_app_desc` in a component's CMakeLists, which Moddable's project does not let an app add).
 */
#include <stdint.h>
#include "esp_chip_info.h"
#include "mc.defines.h"

#define RMX_IDENTITY_MAGIC 0x49584D52u	/* "RMXI" in flash byte order: ota/image.ts IDENTITY_MAGIC */

typedef struct {
	uint32_t magic;
	char name[32];		/* NUL-padded */
	uint32_t reserved;	/* zero */
} rmx_app_identity_t;

_Static_assert(sizeof(rmx_app_identity_t) == 40, "ota/image.ts IDENTITY_LENGTH");
_Static_assert(sizeof(MODDEF_FIRMWARE_NAME) <= 32, "the firmware name must fit the 32-byte field with its NUL");

const __attribute__((section(".rodata_custom_desc"), aligned(4))) rmx_app_identity_t rmx_app_identity = {
	.magic = RMX_IDENTITY_MAGIC,
	.name = MODDEF_FIRMWARE_NAME,
	.reserved = 0,
};

/* The identity's name, as the running image carries it. */
const char *otaplat_firmware_name(void)
{
	return rmx_app_identity.name;
}

/* The chip's revision, major * 100 + minor: what esp_https_ota compares with the image header's range. */
uint32_t otaplat_chip_revision(void)
{
	esp_chip_info_t info;
	esp_chip_info(&info);
	return info.revision;
}
