/*
 * What mcconfig generates as mc.ffi.d.ts from manifest.json "ffi.functions": the esp32 build's
 * (native/otaplat_esp32.c, native/app_identity_esp32.c) and the lin build's (native/otaplat_lin.c) functions together, since
 * `npm run typecheck` checks both platforms' modules at once; each build's own mc.ffi.d.ts lists
 * only its platform's.
 */
declare module "mc/ffi" {
	export default class FFI {
		constructor();
		// esp32
		otaplat_running_state(): number;
		otaplat_mark_valid(): number;
		otaplat_rollback(): number;
		otaplat_secure_version(): number;
		otaplat_idf_target(): string;
		otaplat_running_label(): string;
		otaplat_firmware_name(): string;
		otaplat_chip_revision(): number;
		otaplat_ota_capacity(): number;
		otaplat_ota_begin(arg0: number): number;
		otaplat_ota_write(arg0: ArrayBuffer, arg1: number, arg2: number): number;
		otaplat_ota_end(): number;
		otaplat_ota_abort(): void;
		otaplat_ota_read(arg0: number, arg1: ArrayBuffer, arg2: number, arg3: number): number;
		otaplat_update_slot_state(): number;
		otaplat_fctry_size(arg0: string): number;
		otaplat_fctry_read(arg0: string, arg1: ArrayBuffer, arg2: number, arg3: number): number;
		otaplat_nvs_get_u16(arg0: string, arg1: string): number;
		otaplat_nvs_set_u16(arg0: string, arg1: string, arg2: number): number;
		// esp32 and lin
		otaplat_restart(): void;
		// lin
		otaplat_flash_open(): number;
		otaplat_flash_read(arg0: number, arg1: ArrayBuffer, arg2: number, arg3: number): number;
		otaplat_flash_write(arg0: number, arg1: ArrayBuffer, arg2: number, arg3: number): number;
		otaplat_flash_erase(arg0: number, arg1: number): number;
		otaplat_file_size(arg0: string): number;
		otaplat_file_read(arg0: string, arg1: ArrayBuffer, arg2: number, arg3: number): number;
		otaplat_file_write(arg0: string, arg1: ArrayBuffer, arg2: number, arg3: number): number;
		otaplat_console_read(arg0: ArrayBuffer, arg1: number, arg2: number): number;
	}
}
