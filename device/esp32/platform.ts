/*
 * The ESP32 platform (mapped as "device-platform" for esp32 builds): Moddable's `preference` (NVS)
 * for the OTA state, esp_ota_* through FFI for the update slot and the boot control, the fctry
 * partition through FFI for the claim data, and the IDF target the build was made for.
 */
import FFI from "mc/ffi";
import type {DevicePlatform} from "../platform";
import type {Log} from "../../rainmaker/ports";
import {FfiBootControl} from "./boot-control";
import {readFctryCredentials} from "./fctry";
import {PreferenceStore} from "./key-value-store";
import {OtaUpdatePartition} from "./update-partition";

export function openPlatform(_log: Log): DevicePlatform {
	const native = new FFI();
	return {
		target: native.otaplat_idf_target(),
		store: new PreferenceStore("rmaker_ota"),
		paramStore: new PreferenceStore("rmaker_params"),
		partition: new OtaUpdatePartition(),
		boot: new FfiBootControl(),
		readClaim: () => readFctryCredentials(native),
		telnetAllowed: true,
	};
}
