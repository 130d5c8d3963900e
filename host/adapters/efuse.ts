/*
 * The simulated eFuses of a host device: which chip it is and the anti-rollback secure version
 * (the popcount of the SECURE_VERSION field, 0 when never burned). A small JSON file next to the
 * flash file, `<flash file>.efuse.json`, e.g. {"chip": "esp32", "secureVersion": 0}; absent = defaults.
 */
import {existsSync, readFileSync, writeFileSync} from "node:fs";
import {CHIP_IDS} from "../../ota/image";

export interface Efuse {
	/** esp_chip_id_t of the chip (CONFIG_IDF_FIRMWARE_CHIP_ID). */
	chipId: number;
	secureVersion: number;
}

export const DEFAULT_EFUSE: Readonly<Efuse> = Object.freeze({chipId: CHIP_IDS.esp32, secureVersion: 0});

export function efusePath(flashPath: string): string {
	return flashPath + ".efuse.json";
}

/** Reads the eFuse file of a flash file; throws a clear Error when it exists but is malformed. */
export function readEfuse(flashPath: string): Efuse {
	const path = efusePath(flashPath);
	if (!existsSync(path))
		return {...DEFAULT_EFUSE};
	let doc: unknown;
	try {
		doc = JSON.parse(readFileSync(path, "utf8"));
	}
	catch (error) {
		throw new Error("eFuse file " + path + " is not JSON: " + (error as Error).message);
	}
	if (typeof doc !== "object" || doc === null || Array.isArray(doc))
		throw new Error("eFuse file " + path + " must hold an object");
	const fields = doc as {chip?: unknown; secureVersion?: unknown};
	const efuse: Efuse = {...DEFAULT_EFUSE};
	if (fields.chip !== undefined) {
		if (typeof fields.chip !== "string" || !Object.prototype.hasOwnProperty.call(CHIP_IDS, fields.chip))
			throw new Error("eFuse file " + path + ": unknown chip " + JSON.stringify(fields.chip) + " (one of " + Object.keys(CHIP_IDS).join(", ") + ")");
		efuse.chipId = CHIP_IDS[fields.chip];
	}
	if (fields.secureVersion !== undefined) {
		const v = fields.secureVersion;
		if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 32)
			throw new Error("eFuse file " + path + ": secureVersion must be an integer 0..32");
		efuse.secureVersion = v;
	}
	return efuse;
}

export function writeEfuse(flashPath: string, efuse: {chip?: string; secureVersion?: number}): void {
	writeFileSync(efusePath(flashPath), JSON.stringify(efuse) + "\n");
}
