/*
 * Moddable's esp32 "ota" module (build/devices/esp32/modules/ota/ota.js, ota.c; SDK 8.2.3), which
 * has no typing in the SDK. constructor = esp_ota_get_next_update_partition + esp_ota_begin
 * (sequential writes, erase as written), write = esp_ota_write, cancel = esp_ota_end (not abort),
 * complete = esp_ota_end (image check) + esp_ota_set_boot_partition; nothing restarts.
 */
declare module "ota" {
	export default class OTA {
		/** The native constructor ignores its argument (the httpota example passes {byteLength}). */
		constructor(options?: {byteLength?: number});
		/** Any readable buffer. Throws "write failed". */
		write(data: ArrayBuffer | ArrayBufferView): void;
		cancel(): void;
		/** Throws "end failed" (image invalid) or "can't change boot partition". */
		complete(): void;
	}
}
