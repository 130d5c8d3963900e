/*
 * The claim data of the ESP32's fctry partition (NVS namespace rmaker_creds), read through FFI
 * (native/otaplat_esp32.c: nvs_flash_init_partition + nvs_open_from_partition + nvs_get_blob, as
 * esp_rmaker_factory does, and nvs_get_str for a value stored as a string: docs/device.md,
 * section 3). Unclaimed (no partition, namespace or key) reads as undefined.
 */
import FFI from "mc/ffi";
import type {ClaimedCredentials} from "../../idf/fctry";

/* esp_err_t values of ESP-IDF v6.0 (esp_err.h, nvs.h: ESP_ERR_NVS_BASE 0x1100 + 0x02, + 0x0f). No fctry
 * partition: nvs_flash_init_partition answers ESP_ERR_NOT_FOUND (nvs_partition_lookup.cpp). */
const ESP_ERR_NOT_FOUND = 0x105;
const ESP_ERR_NVS_NOT_FOUND = 0x1102;
const ESP_ERR_NVS_PART_NOT_FOUND = 0x110f;
/** Largest value read (a certificate chain is below 4 KB; NVS blobs of v2 may be larger, credentials are not). */
const MAX_VALUE_BYTES = 8192;

function absent(code: number): boolean {
	return code === ESP_ERR_NOT_FOUND || code === ESP_ERR_NVS_NOT_FOUND || code === ESP_ERR_NVS_PART_NOT_FOUND;
}

function readValue(native: FFI, key: string): ArrayBuffer | undefined {
	const size = native.otaplat_fctry_size(key);
	if (size < 0) {
		if (absent(-size)) return undefined;
		throw new Error(`fctry partition: cannot read rmaker_creds/${key} (esp_err_t 0x${(-size).toString(16)})`);
	}
	if (size > MAX_VALUE_BYTES)
		throw new Error(`fctry partition: rmaker_creds/${key} has ${size} bytes, more than ${MAX_VALUE_BYTES}`);
	const bytes = new ArrayBuffer(size);
	const read = native.otaplat_fctry_read(key, bytes, 0, size);
	if (read !== size)
		throw new Error(
			`fctry partition: cannot read rmaker_creds/${key} (${read < 0 ? `esp_err_t 0x${(-read).toString(16)}` : "short read"})`,
		);
	return bytes;
}

export function readFctryCredentials(native: FFI = new FFI()): ClaimedCredentials | undefined {
	const text = (key: string) => {
		const bytes = readValue(native, key);
		return bytes === undefined ? undefined : String.fromArrayBuffer(bytes).replace(/\0+$/, "");
	};
	const nodeId = text("node_id");
	if (nodeId === undefined) return undefined;
	const mqttHost = text("mqtt_host");
	const clientCert = text("client_cert");
	const clientKey = text("client_key");
	const missing = [
		["mqtt_host", mqttHost],
		["client_cert", clientCert],
		["client_key", clientKey],
	]
		.filter(([, value]) => !value)
		.map(([key]) => key);
	if (missing.length) throw new Error(`fctry partition: namespace rmaker_creds lacks ${missing.join(", ")}`);
	const random = readValue(native, "random");
	return {
		nodeId,
		mqttHost: mqttHost!,
		clientCert: clientCert!,
		clientKey: clientKey!,
		mqttCredHost: text("mqtt_cred_host"),
		random: random === undefined ? undefined : new Uint8Array(random),
	};
}
